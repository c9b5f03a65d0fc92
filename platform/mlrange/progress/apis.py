"""REST API of progress: the learner's own progress, cohorts, joining one, a cohort's progress.

A cohort's progress is visible to its instructors only; anyone else gets a 404.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.accounts.selectors import user_from_request
from mlrange.progress import selectors, services
from mlrange.progress.models import Cohort


class _EstimateSerializer(serializers.Serializer[dict[str, object]]):
    theta = serializers.FloatField()
    se = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    level = serializers.CharField()
    level_name = serializers.CharField()
    confidence = serializers.FloatField(help_text="Posterior mass inside the level's band (0..1).")
    n_items = serializers.IntegerField(help_text="Observations: quiz items plus lab checks.")


class _SelfAssessedSerializer(serializers.Serializer[dict[str, object]]):
    level = serializers.CharField()
    level_name = serializers.CharField()
    mean_confidence = serializers.FloatField()
    n_ratings = serializers.IntegerField()


class _SubskillProgressSerializer(serializers.Serializer[dict[str, object]]):
    slug = serializers.CharField()
    name = serializers.CharField()
    estimate = _EstimateSerializer()
    position = serializers.FloatField(help_text="Theta on 0..1, each level band a quarter.")
    n_quiz_items = serializers.IntegerField()
    n_lab_checks = serializers.IntegerField()
    self_assessed = _SelfAssessedSerializer(
        allow_null=True, help_text="From the latest self-check; never mixed in."
    )


class _OverallSerializer(serializers.Serializer[dict[str, object]]):
    theta = serializers.FloatField()
    level = serializers.CharField()
    level_name = serializers.CharField()
    position = serializers.FloatField()


class MyProgressApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer[dict[str, object]]):
        version = serializers.IntegerField()
        computed_at = serializers.DateTimeField()
        is_new = serializers.BooleanField()
        last_activity = serializers.DateTimeField(allow_null=True)
        overall = _OverallSerializer()
        subskills = _SubskillProgressSerializer(many=True)
        self_check_at = serializers.DateTimeField(allow_null=True)
        timeline = serializers.ListField(
            child=serializers.DictField(), help_text="[{at, label, overall, thetas}]"
        )
        labs = serializers.ListField(
            child=serializers.DictField(), help_text="Best graded submission per lab."
        )
        stages = serializers.ListField(child=serializers.DictField(), help_text="Learning-path checklist.")
        history = serializers.DictField(help_text="Recent quiz attempts and lab submissions with links.")
        next_steps = serializers.ListField(child=serializers.DictField())
        red_flags = serializers.ListField(child=serializers.DictField())
        coverage = serializers.DictField(help_text="MITRE ATLAS and OWASP ML Top 10 ids practised.")

        class Meta:
            ref_name = "MyProgress"

    @extend_schema(
        summary="Your progress: levels per sub-skill, path, history, next steps",
        tags=["progress"],
        responses={200: OutputSerializer, 401: OpenApiResponse(description="Not authenticated")},
    )
    def get(self, request: Request) -> Response:
        report = services.progress_for_learner(learner=user_from_request(request))
        return Response(self.OutputSerializer(report).data)


class CohortSerializer(serializers.ModelSerializer[Cohort]):
    learner_count = serializers.IntegerField(read_only=True, default=0)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Cohort
        fields = ("id", "name", "code", "created_at", "learner_count", "url")

    def get_url(self, cohort: Cohort) -> str:
        return reverse("api:cohort-progress", kwargs={"cohort_id": cohort.pk})


class CohortsApi(APIView):
    """GET lists the cohorts you teach; POST creates one (instructors only)."""

    permission_classes = [IsAuthenticated]
    pagination_class = None

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        name = serializers.CharField(max_length=120)

        class Meta:
            ref_name = "CohortCreate"

    @extend_schema(
        summary="The cohorts you teach",
        tags=["progress"],
        responses={200: CohortSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        cohorts = selectors.cohort_list_for_instructor(instructor=user_from_request(request))
        return Response(CohortSerializer(cohorts, many=True).data)

    @extend_schema(
        summary="Create a cohort and get its join code (instructors only)",
        tags=["progress"],
        request=InputSerializer,
        responses={
            201: CohortSerializer,
            400: OpenApiResponse(description="Invalid input"),
            403: OpenApiResponse(description="Not an instructor"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = services.cohort_create(
            instructor=user_from_request(request), name=data.validated_data["name"]
        )
        return Response(CohortSerializer(cohort).data, status=status.HTTP_201_CREATED)


class CohortJoinApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        code = serializers.CharField(max_length=32)

        class Meta:
            ref_name = "CohortJoin"

    class OutputSerializer(serializers.Serializer[Cohort]):
        id = serializers.IntegerField()
        name = serializers.CharField()

        class Meta:
            ref_name = "CohortJoined"

    @extend_schema(
        summary="Join a cohort with its code",
        tags=["progress"],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="No cohort has that code; `detail` says so"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = services.cohort_join(learner=user_from_request(request), code=data.validated_data["code"])
        return Response(self.OutputSerializer(cohort).data)


class CohortProgressApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer[dict[str, object]]):
        cohort = serializers.DictField()
        subskills = serializers.ListField(child=serializers.DictField())
        learners = serializers.ListField(
            child=serializers.DictField(),
            help_text="Per learner: levels per sub-skill, labs passed, hints used, stuck reasons.",
        )
        labs = serializers.ListField(
            child=serializers.DictField(), help_text="Pass rate and hints used per lab."
        )
        hints = serializers.ListField(
            child=serializers.DictField(),
            help_text="Hints revealed per learner and lab: {username, lab, lab_title, used, total}.",
        )
        items = serializers.ListField(
            child=serializers.DictField(), help_text="Per quiz item: responses, proportion correct."
        )
        stuck = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "CohortProgress"

    @extend_schema(
        summary="A cohort's progress (instructors of that cohort only)",
        tags=["progress"],
        responses={200: OutputSerializer, 404: OpenApiResponse(description="No such cohort among yours")},
    )
    def get(self, request: Request, cohort_id: int) -> Response:
        cohort = selectors.cohort_get_for_instructor(
            cohort_id=cohort_id, instructor=user_from_request(request)
        )
        return Response(self.OutputSerializer(services.cohort_progress(cohort=cohort)).data)
