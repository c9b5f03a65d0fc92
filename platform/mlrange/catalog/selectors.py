"""Reads of the catalog: the guide's sections, each in a fixed, small number of queries."""

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from mlrange.catalog.models import (
    AtsKeyword,
    FaqEntry,
    Guide,
    Industry,
    Level,
    Misconception,
    PathStage,
    PortfolioProject,
    QuickQuizQuestion,
    RedFlag,
    Resource,
    ResumePhrase,
    Role,
    SelfCheckQuestion,
    SubSkill,
    UseCase,
)


def guide_get() -> Guide | None:
    """The guide's overview; None until `load_curriculum` has run."""
    return Guide.objects.order_by("id").first()


def level_list() -> QuerySet[Level]:
    return Level.objects.order_by("order")


def level_get(*, slug: str) -> Level:
    """Raises Http404 for an unknown slug."""
    return get_object_or_404(Level, slug=slug)


def subskill_list() -> QuerySet[SubSkill]:
    return SubSkill.objects.order_by("order")


def subskill_get(*, slug: str) -> SubSkill:
    """A sub-skill with its red flags and self-check questions prefetched. Http404 if unknown."""
    queryset = SubSkill.objects.prefetch_related(
        Prefetch("red_flags", queryset=RedFlag.objects.order_by("order")),
        Prefetch("self_check_questions", queryset=SelfCheckQuestion.objects.order_by("order")),
    )
    return get_object_or_404(queryset, slug=slug)


_Tagged = TypeVar("_Tagged", Misconception, UseCase, PortfolioProject, Resource, Role)


def _with_subskills(queryset: QuerySet[_Tagged]) -> QuerySet[_Tagged]:
    return queryset.prefetch_related(Prefetch("subskills", queryset=SubSkill.objects.order_by("order")))


def path_stage_list() -> QuerySet[PathStage]:
    return PathStage.objects.select_related("level").order_by("order")


def misconception_list(*, subskill: SubSkill | None = None) -> QuerySet[Misconception]:
    queryset = _with_subskills(Misconception.objects.order_by("order"))
    return queryset.filter(subskills=subskill) if subskill else queryset


def use_case_list(*, subskill: SubSkill | None = None) -> QuerySet[UseCase]:
    queryset = _with_subskills(UseCase.objects.select_related("difficulty").order_by("order"))
    return queryset.filter(subskills=subskill) if subskill else queryset


def project_list(*, subskill: SubSkill | None = None) -> QuerySet[PortfolioProject]:
    queryset = _with_subskills(PortfolioProject.objects.select_related("difficulty").order_by("order"))
    return queryset.filter(subskills=subskill) if subskill else queryset


def self_check_list() -> QuerySet[SelfCheckQuestion]:
    return SelfCheckQuestion.objects.prefetch_related(
        Prefetch("subskills", queryset=SubSkill.objects.order_by("order"))
    ).order_by("order")


def quick_quiz_list() -> QuerySet[QuickQuizQuestion]:
    return QuickQuizQuestion.objects.prefetch_related(
        Prefetch("subskills", queryset=SubSkill.objects.order_by("order"))
    ).order_by("order")


def red_flag_list() -> QuerySet[RedFlag]:
    return RedFlag.objects.select_related("subskill").order_by("order")


def resource_list(*, is_free: bool | None = None) -> QuerySet[Resource]:
    queryset = _with_subskills(Resource.objects.order_by("order"))
    return queryset if is_free is None else queryset.filter(is_free=is_free)


def role_list(*, kind: Role.Kind | None = None) -> QuerySet[Role]:
    queryset = _with_subskills(Role.objects.order_by("order"))
    return queryset if kind is None else queryset.filter(kind=kind)


def industry_list() -> QuerySet[Industry]:
    return Industry.objects.order_by("order")


def ats_keyword_list(*, tier: AtsKeyword.Tier | None = None) -> QuerySet[AtsKeyword]:
    queryset = AtsKeyword.objects.order_by("order")
    return queryset if tier is None else queryset.filter(tier=tier)


def resume_phrase_list() -> QuerySet[ResumePhrase]:
    return ResumePhrase.objects.select_related("subskill").order_by("order")


def faq_list() -> QuerySet[FaqEntry]:
    return FaqEntry.objects.order_by("order")


@dataclass(frozen=True)
class Careers:
    primary_roles: list[Role]
    secondary_roles: list[Role]
    industries: list[Industry]
    must_have_keywords: list[AtsKeyword]
    good_to_have_keywords: list[AtsKeyword]
    resume_phrases: list[ResumePhrase]


def careers_get() -> Careers:
    roles = list(role_list())
    keywords = list(ats_keyword_list())
    return Careers(
        primary_roles=[r for r in roles if r.kind == Role.Kind.PRIMARY],
        secondary_roles=[r for r in roles if r.kind == Role.Kind.SECONDARY],
        industries=list(industry_list()),
        must_have_keywords=[k for k in keywords if k.tier == AtsKeyword.Tier.MUST_HAVE],
        good_to_have_keywords=[k for k in keywords if k.tier == AtsKeyword.Tier.GOOD_TO_HAVE],
        resume_phrases=list(resume_phrase_list()),
    )
