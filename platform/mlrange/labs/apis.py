"""REST API for labs and submissions (owner-only: another learner's submission is a 404)."""

from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.accounts.selectors import user_from_request
from mlrange.catalog import selectors as catalog_selectors
from mlrange.labs import content, hints, notebooks, registry, selectors, services
from mlrange.labs.hints import HintState, RevealedHint
from mlrange.labs.models import Lab, Submission


def _lab_or_404(slug: str) -> Lab:
    try:
        return selectors.lab_get_active(slug=slug)
    except Lab.DoesNotExist as exc:
        raise Http404 from exc


class LabSummarySerializer(serializers.ModelSerializer[Lab]):
    subskill = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    level = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Lab
        fields = (
            "slug",
            "title",
            "summary",
            "subskill",
            "level",
            "atlas",
            "owasp",
            "time_budget_minutes",
            "url",
        )

    def get_url(self, lab: Lab) -> str:
        return reverse("api:lab-detail", kwargs={"slug": lab.slug})


class LabListItemSerializer(LabSummarySerializer):
    status = serializers.ChoiceField(
        choices=[s.value for s in selectors.LabStatus],
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Where you stand: not_started, attempted (a run or graded submission, no pass) "
        "or passed; null when not authenticated",
    )
    best_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Your best graded score; null before one, or anonymous",
    )

    class Meta(LabSummarySerializer.Meta):
        ref_name = "LabListItem"
        fields = (*LabSummarySerializer.Meta.fields, "status", "best_score")


class LabListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = None

    class QuerySerializer(serializers.Serializer[dict[str, object]]):
        subskill = serializers.SlugField(required=False, help_text="Only this sub-skill's labs (its slug)")
        level = serializers.SlugField(required=False, help_text="Only labs of this level (its slug)")

        class Meta:
            ref_name = "LabListQuery"

        def validate_subskill(self, value: str) -> str:
            if not catalog_selectors.subskill_list().filter(slug=value).exists():
                raise serializers.ValidationError(f"No sub-skill {value!r}; see /api/v1/subskills/.")
            return value

        def validate_level(self, value: str) -> str:
            if not catalog_selectors.level_list().filter(slug=value).exists():
                raise serializers.ValidationError(f"No level {value!r}; see /api/v1/levels/.")
            return value

    @extend_schema(
        summary="List the labs in learning-path order, with where you stand in each",
        description="Ordered by sub-skill, then level (the learning path's stages). When "
        "authenticated, each lab carries your `status` and `best_score`.",
        tags=["labs"],
        parameters=[QuerySerializer],
        responses=LabListItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        learner = user_from_request(request) if request.user.is_authenticated else None
        labs = selectors.lab_list_in_path_order(learner=learner, **query.validated_data)
        return Response(LabListItemSerializer(labs, many=True).data)


class LabDetailApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(LabSummarySerializer):
        brief_markdown = serializers.CharField()
        starter_code = serializers.CharField()
        notebook_url = serializers.CharField()
        artifacts = serializers.ListField(child=serializers.DictField())
        tiers = serializers.ListField(child=serializers.DictField())
        pass_points = serializers.FloatField()
        max_points = serializers.FloatField()

        class Meta(LabSummarySerializer.Meta):
            ref_name = "LabDetail"
            fields = (
                *LabSummarySerializer.Meta.fields,
                "brief_markdown",
                "starter_code",
                "notebook_url",
                "artifacts",
                "tiers",
                "pass_points",
                "max_points",
            )

    @extend_schema(
        summary="A lab's brief, starter code and scoring", tags=["labs"], responses=OutputSerializer
    )
    def get(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        pack = content.lab_pack(lab.slug)
        lab.brief_markdown = pack.brief_markdown  # type: ignore[attr-defined]  # serializer-only attributes
        lab.starter_code = pack.starter_code  # type: ignore[attr-defined]
        lab.notebook_url = reverse("labs:notebook", kwargs={"slug": lab.slug})  # type: ignore[attr-defined]
        lab.artifacts = pack.artifacts  # type: ignore[attr-defined]
        lab.tiers = pack.tiers  # type: ignore[attr-defined]
        return Response(self.OutputSerializer(lab).data)


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    queue_position = serializers.SerializerMethodField()
    is_final = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = (
            "id",
            "url",
            "lab",
            "mode",
            "source",
            "status",
            "is_final",
            "queue_position",
            "created_at",
            "started_at",
            "finished_at",
            "score",
            "passed",
            "checks",
            "metrics",
            "outputs",
            "message",
            "execution_seconds",
            "grading_seconds",
        )

    def get_queue_position(self, submission: Submission) -> int | None:
        return selectors.submission_queue_position(submission=submission)

    def get_url(self, submission: Submission) -> str:
        return reverse("api:submission-detail", kwargs={"submission_id": submission.pk})


class SubmissionCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "submissions"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        mode = serializers.ChoiceField(
            choices=Submission.Mode.choices, help_text="run: scratch; grade: score it"
        )
        code = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        notebook = serializers.FileField(required=False, help_text="An .ipynb file (multipart upload)")

        class Meta:
            ref_name = "SubmissionCreateInput"

        def validate(self, attrs: dict[str, object]) -> dict[str, object]:
            if ("code" in attrs) == ("notebook" in attrs):
                raise serializers.ValidationError(
                    "Send either `code` or `notebook`, not both and not neither."
                )
            return attrs

    @extend_schema(
        summary="Submit code or a notebook to run or grade",
        tags=["labs"],
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={
            202: SubmissionSerializer,
            400: OpenApiResponse(description="Invalid input; `detail` says what to fix"),
            429: OpenApiResponse(description="Too many runs in flight"),
            503: OpenApiResponse(description="The sandbox is unavailable on this host"),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("notebook")
        user = user_from_request(request)
        submission = services.submission_create(
            learner=user,
            lab=lab,
            mode=data.validated_data["mode"],
            code=data.validated_data.get("code"),
            notebook=upload.read() if upload is not None else None,
            notebook_name=getattr(upload, "name", "") or "",
        )
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_202_ACCEPTED)


class SubmissionSummarySerializer(SubmissionSerializer):
    """A submission in a list: everything but its outputs and code (its `url` has both)."""

    class Meta(SubmissionSerializer.Meta):
        ref_name = "SubmissionSummary"
        fields = tuple(f for f in SubmissionSerializer.Meta.fields if f != "outputs")


class SubmissionListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Your submissions to a lab, newest first (the latest 50; outputs and code at `url`)",
        tags=["labs"],
        responses=SubmissionSummarySerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        user = user_from_request(request)
        qs = selectors.submission_list_for_learner(learner=user, lab=lab)[:50]
        return Response(SubmissionSummarySerializer(qs, many=True).data)


class SubmissionWithCodeSerializer(SubmissionSerializer):
    code = serializers.SerializerMethodField(help_text="The code it ran, to restore into the editor")

    class Meta(SubmissionSerializer.Meta):
        fields = (*SubmissionSerializer.Meta.fields, "code")

    def get_code(self, submission: Submission) -> str:
        return selectors.submission_code(submission=submission)


class SubmissionDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    class QuerySerializer(serializers.Serializer[dict[str, object]]):
        wait = serializers.FloatField(
            required=False,
            min_value=0,
            max_value=selectors.WAIT_MAX_S,
            help_text="Seconds to wait for the result before answering (a long poll, at most 30): "
            "the answer comes the moment the submission is final.",
        )

    @extend_schema(
        summary="Status, score, feedback and outputs of one of your submissions",
        tags=["labs"],
        parameters=[QuerySerializer],
        responses=SubmissionWithCodeSerializer,
    )
    def get(self, request: Request, submission_id: UUID) -> Response:
        user = user_from_request(request)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wait = float(query.validated_data.get("wait", 0.0))
        try:
            if wait > 0:
                submission = selectors.submission_wait(
                    learner=user, submission_id=submission_id, timeout=wait
                )
            else:
                submission = selectors.submission_get_for_learner(learner=user, submission_id=submission_id)
        except Submission.DoesNotExist as exc:
            raise Http404 from exc
        return Response(SubmissionWithCodeSerializer(submission).data)


class SubmissionNotebookApi(APIView):
    """One of the learner's submissions as a Jupyter notebook (the page's download, on the API)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One of your submissions as a notebook: its cells with their outputs and figures",
        tags=["labs"],
        responses={(200, "application/x-ipynb+json"): OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, submission_id: UUID) -> HttpResponse:
        try:
            submission = selectors.submission_get_for_learner(
                learner=user_from_request(request), submission_id=submission_id
            )
        except Submission.DoesNotExist as exc:
            raise Http404 from exc
        response = HttpResponse(
            notebooks.submission_notebook(submission=submission), content_type="application/x-ipynb+json"
        )
        name = notebooks.submission_notebook_filename(submission=submission)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class LabDraftApi(APIView):
    """The learner's own draft of a lab: the code the editor opens on. Nobody else's is reachable."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        code = serializers.CharField(
            allow_blank=True,
            trim_whitespace=False,
            max_length=settings.LABS_MAX_CODE_BYTES,
            help_text="The whole editor text (UTF-8, at most MLRANGE_MAX_CODE_BYTES bytes)",
        )

        class Meta:
            ref_name = "LabDraftInput"

    class OutputSerializer(serializers.Serializer[dict[str, object]]):
        code = serializers.CharField(help_text="The draft, or the starter code when there is none")
        is_saved = serializers.BooleanField(help_text="False: no draft yet, this is the starter code")

        class Meta:
            ref_name = "LabDraft"

    def _answer(self, *, lab: Lab, code: str | None) -> Response:
        body: dict[str, object] = {
            "code": content.lab_pack(lab.slug).starter_code if code is None else code,
            "is_saved": code is not None,
        }
        return Response(self.OutputSerializer(body).data)

    @extend_schema(summary="Your draft of a lab's code", tags=["labs"], responses=OutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        code = selectors.draft_code_for_learner(learner=user_from_request(request), lab=lab)
        return self._answer(lab=lab, code=code)

    @extend_schema(
        summary="Save your draft of a lab's code (the editor does this as you type)",
        tags=["labs"],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="No `code`, or more than the size limit"),
        },
    )
    def put(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = services.draft_save(
            learner=user_from_request(request), lab=lab, code=data.validated_data["code"]
        )
        return self._answer(lab=lab, code=draft.code)

    @extend_schema(
        summary="Discard your draft: the editor opens on the starter code again",
        tags=["labs"],
        responses={204: None},
    )
    def delete(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        services.draft_discard(learner=user_from_request(request), lab=lab)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _RevealedHintSerializer(serializers.Serializer[RevealedHint]):
    number = serializers.IntegerField(help_text="1 for the lab's first hint")
    text = serializers.CharField()
    revealed_at = serializers.DateTimeField()

    class Meta:
        ref_name = "RevealedHint"


class _HintStateSerializer(serializers.Serializer[HintState]):
    total = serializers.IntegerField(help_text="How many hints the lab has")
    used = serializers.IntegerField(help_text="How many you have revealed")
    next_number = serializers.IntegerField(
        allow_null=True, help_text="The hint a reveal shows next; null once all are shown"
    )
    revealed = _RevealedHintSerializer(many=True, help_text="Only the hints you revealed, in order")

    class Meta:
        ref_name = "LabHints"


class LabHintsApi(APIView):
    """A lab's progressive hints for the learner: the revealed ones only, and a way to reveal more."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer[dict[str, object]]):
        number = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=registry.MAX_HINTS,
            help_text="The hint to reveal (the next one). Asking again for one already revealed "
            "changes nothing, so a retried request reveals one hint, not two. Omit it to reveal "
            "the next hint.",
        )

        class Meta:
            ref_name = "LabHintRevealInput"

    @extend_schema(
        summary="The hints of a lab you have revealed, and how many there are",
        tags=["labs"],
        responses=_HintStateSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        state = hints.hint_state_for_learner(learner=user_from_request(request), lab=lab)
        return Response(_HintStateSerializer(state).data)

    @extend_schema(
        summary="Reveal the next hint of a lab (recorded, with the time)",
        tags=["labs"],
        request=InputSerializer,
        responses={
            200: _HintStateSerializer,
            400: OpenApiResponse(description="No hint left, a hint out of order, or none in this lab"),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        lab = _lab_or_404(slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = hints.hint_reveal(
            learner=user_from_request(request), lab=lab, number=data.validated_data.get("number")
        )
        return Response(_HintStateSerializer(state).data)
