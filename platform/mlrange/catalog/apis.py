"""Read API of the skill guide (public, GET only): levels, sub-skills, path stages, the guide.

The sets are small and fixed, so list endpoints are not paginated (pagination_class = None).
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.catalog import selectors
from mlrange.catalog.atlas import ATLAS_VERSION, atlas_entries
from mlrange.catalog.taxonomies import (
    NIST_AI_RMF_FUNCTIONS,
    OWASP_ML_TOP_10,
    OWASP_ML_TOP_10_VERSION,
    owasp_items,
)
from mlrange.common.exceptions import ServiceUnavailableError

TAGS = ["guide"]


class AtlasRefSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField()


class TaxonomyItemSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()


class SubSkillRefSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()


def _value(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _atlas_refs(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": e.id, "name": e.name, "kind": e.kind.value, "url": e.url} for e in atlas_entries(ids)]


def _owasp_refs(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": i.id, "name": i.name, "summary": i.summary} for i in owasp_items(ids)]


class RefsSerializer(serializers.Serializer[Any]):
    """Cited ATLAS and OWASP ids, with names resolved from the reference data."""

    atlas = serializers.SerializerMethodField()
    owasp = serializers.SerializerMethodField()

    @extend_schema_field(AtlasRefSerializer(many=True))
    def get_atlas(self, obj: Any) -> list[dict[str, str]]:
        return _atlas_refs(_value(obj, "atlas_ids"))

    @extend_schema_field(TaxonomyItemSerializer(many=True))
    def get_owasp(self, obj: Any) -> list[dict[str, str]]:
        return _owasp_refs(_value(obj, "owasp_ids"))


class LevelOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    summary = serializers.CharField()
    can_do = serializers.ListField(child=serializers.CharField())
    next_step = serializers.CharField()


class LevelListApi(APIView):
    """The four proficiency levels, in order."""

    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(tags=TAGS, operation_id="levels_list", responses=LevelOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(LevelOutput(selectors.level_list(), many=True).data)


class LevelDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=TAGS, operation_id="levels_retrieve", responses=LevelOutput)
    def get(self, request: Request, slug: str) -> Response:
        return Response(LevelOutput(selectors.level_get(slug=slug)).data)


class SubSkillOutput(RefsSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    weight = serializers.IntegerField(help_text="Percent of overall proficiency.")
    weight_rationale = serializers.CharField()
    description = serializers.CharField()
    example_tasks = serializers.ListField(child=serializers.CharField())
    nist_functions = serializers.ListField(child=serializers.CharField())


class RedFlagOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    text = serializers.CharField()
    remedy = serializers.CharField()


class SelfCheckOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    text = serializers.CharField()


class SubSkillDetailOutput(SubSkillOutput):
    red_flags = RedFlagOutput(many=True, source="red_flags.all")
    self_check_questions = SelfCheckOutput(many=True, source="self_check_questions.all")


class SubSkillListApi(APIView):
    """The five sub-skills with their weights and the threats they concern."""

    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(tags=TAGS, operation_id="subskills_list", responses=SubSkillOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(SubSkillOutput(selectors.subskill_list(), many=True).data)


class SubSkillDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=TAGS, operation_id="subskills_retrieve", responses=SubSkillDetailOutput)
    def get(self, request: Request, slug: str) -> Response:
        return Response(SubSkillDetailOutput(selectors.subskill_get(slug=slug)).data)


class KeyTopicOutput(RefsSerializer):
    title = serializers.CharField()
    detail = serializers.CharField()
    nist_functions = serializers.ListField(child=serializers.CharField())


class PathStageOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    order = serializers.IntegerField()
    title = serializers.CharField()
    level = serializers.CharField(source="level.slug")
    summary = serializers.CharField()
    goals = serializers.ListField(child=serializers.CharField())
    key_topics = KeyTopicOutput(many=True)
    recommended_actions = serializers.ListField(child=serializers.CharField())
    deliverables = serializers.ListField(child=serializers.CharField())


class PathStageListApi(APIView):
    """The learning path: three stages with goals, key topics, actions and deliverables."""

    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(tags=TAGS, operation_id="paths_list", responses=PathStageOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(PathStageOutput(selectors.path_stage_list(), many=True).data)


class OverviewOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    tagline = serializers.CharField()
    what_is = serializers.CharField(help_text="Markdown.")
    why_it_matters = serializers.ListField(child=serializers.CharField())
    outcomes = serializers.ListField(child=serializers.CharField())


class MisconceptionOutput(RefsSerializer):
    slug = serializers.CharField()
    misconception = serializers.CharField()
    correction = serializers.CharField()
    detail = serializers.CharField()
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class UseCaseOutput(RefsSerializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    difficulty = serializers.CharField(source="difficulty.slug", help_text="A level slug.")
    description = serializers.CharField()
    key_controls = serializers.ListField(child=serializers.CharField())
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class ProjectOutput(RefsSerializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    difficulty = serializers.CharField(source="difficulty.slug", help_text="A level slug.")
    summary = serializers.CharField()
    suggested_stack = serializers.ListField(child=serializers.CharField())
    recruiters_notice = serializers.ListField(child=serializers.CharField())
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class ProjectsOutput(serializers.Serializer[Any]):
    items = ProjectOutput(many=True)
    tips = serializers.ListField(child=serializers.CharField())


class SelfCheckQuestionOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    text = serializers.CharField()
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class QuizQuestionOutput(serializers.Serializer[Any]):
    """A quick-quiz question without its answer: choices are texts only."""

    slug = serializers.CharField()
    question = serializers.CharField()
    choices = serializers.SerializerMethodField()
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_choices(self, obj: Any) -> list[str]:
        return [choice["text"] for choice in obj.choices]


class SelfAssessmentOutput(serializers.Serializer[Any]):
    self_check = SelfCheckQuestionOutput(many=True)
    quiz = QuizQuestionOutput(many=True)


class GuideRedFlagOutput(RedFlagOutput):
    subskill = serializers.CharField(source="subskill.slug")


class ResourceOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="Text only, never fetched; may be empty.")
    kind = serializers.CharField()
    description = serializers.CharField()
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class ResourcesOutput(serializers.Serializer[Any]):
    free = ResourceOutput(many=True)
    paid = ResourceOutput(many=True)
    tips = serializers.ListField(child=serializers.CharField())


class RoleOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    subskills = SubSkillRefSerializer(many=True, source="subskills.all")


class IndustryOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class AtsKeywordsOutput(serializers.Serializer[Any]):
    must_have = serializers.ListField(child=serializers.CharField())
    good_to_have = serializers.ListField(child=serializers.CharField())
    tips = serializers.ListField(child=serializers.CharField())


class ResumePhraseOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    text = serializers.CharField()
    subskill = serializers.CharField(source="subskill.slug")


class CareersOutput(serializers.Serializer[Any]):
    primary_roles = RoleOutput(many=True)
    secondary_roles = RoleOutput(many=True)
    industries = IndustryOutput(many=True)
    ats_keywords = AtsKeywordsOutput()
    resume_phrases = ResumePhraseOutput(many=True)


class FaqOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    question = serializers.CharField()
    answer = serializers.CharField(help_text="Markdown.")


class TaxonomiesOutput(serializers.Serializer[Any]):
    atlas_version = serializers.CharField()
    owasp_ml_top_10_version = serializers.CharField()
    owasp_ml_top_10 = TaxonomyItemSerializer(many=True)
    nist_ai_rmf_functions = TaxonomyItemSerializer(many=True)


class GuideOutput(serializers.Serializer[Any]):
    overview = OverviewOutput()
    misconceptions = MisconceptionOutput(many=True)
    use_cases = UseCaseOutput(many=True)
    projects = ProjectsOutput()
    self_assessment = SelfAssessmentOutput()
    red_flags = GuideRedFlagOutput(many=True)
    resources = ResourcesOutput()
    careers = CareersOutput()
    faq = FaqOutput(many=True)
    taxonomies = TaxonomiesOutput()


class GuideApi(APIView):
    """Everything else in the guide: overview, misconceptions, use cases, projects,
    self-assessment, red flags, resources, careers, FAQ and the taxonomies it cites.

    The quick quiz is listed without its answers (the assessments API scores attempts).
    """

    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        operation_id="guide_retrieve",
        responses={
            200: GuideOutput,
            503: OpenApiResponse(description="The curriculum is not loaded (`manage.py load_curriculum`)."),
        },
    )
    def get(self, request: Request) -> Response:
        guide = selectors.guide_get()
        if guide is None:
            raise ServiceUnavailableError("The curriculum is not loaded: run `manage.py load_curriculum`.")
        resources = list(selectors.resource_list())
        careers = selectors.careers_get()
        instance = {
            "overview": guide,
            "misconceptions": selectors.misconception_list(),
            "use_cases": selectors.use_case_list(),
            "projects": {"items": selectors.project_list(), "tips": guide.portfolio_tips},
            "self_assessment": {
                "self_check": selectors.self_check_list(),
                "quiz": selectors.quick_quiz_list(),
            },
            "red_flags": selectors.red_flag_list(),
            "resources": {
                "free": [r for r in resources if r.is_free],
                "paid": [r for r in resources if not r.is_free],
                "tips": guide.learning_tips,
            },
            "careers": {
                "primary_roles": careers.primary_roles,
                "secondary_roles": careers.secondary_roles,
                "industries": careers.industries,
                "ats_keywords": {
                    "must_have": [k.term for k in careers.must_have_keywords],
                    "good_to_have": [k.term for k in careers.good_to_have_keywords],
                    "tips": guide.ats_tips,
                },
                "resume_phrases": careers.resume_phrases,
            },
            "faq": selectors.faq_list(),
            "taxonomies": {
                "atlas_version": ATLAS_VERSION,
                "owasp_ml_top_10_version": OWASP_ML_TOP_10_VERSION,
                "owasp_ml_top_10": list(OWASP_ML_TOP_10.values()),
                "nist_ai_rmf_functions": list(NIST_AI_RMF_FUNCTIONS.values()),
            },
        }
        return Response(GuideOutput(instance).data)
