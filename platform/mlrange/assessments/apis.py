"""REST API of mlrange.assessments under /api/v1/: quizzes, attempts, answers, submit.

Owner-only: another learner's attempt is a 404. While an attempt is open its questions
carry no key, no `why` and no explanation; after submit, the full review.

Self-check attempts take ratings through the same answers endpoint:
`{"question": "self-check-3", "confidence": 4}` (1 = not at all ... 5 = could teach it).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.accounts.models import User
from mlrange.assessments import selectors, services


def _learner(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):  # IsAuthenticated guarantees a real user
        raise serializers.ValidationError("Log in first.")
    return user


class _OptionOutput(serializers.Serializer[Any]):
    id = serializers.CharField()
    text = serializers.CharField()


class _ReviewOptionOutput(_OptionOutput):
    why = serializers.CharField(required=False, help_text="Absent where the key is withheld.")
    is_correct = serializers.BooleanField(required=False, help_text="Absent where the key is withheld.")
    correct_position = serializers.IntegerField(required=False, allow_null=True)


class QuestionOutput(serializers.Serializer[Any]):
    item = serializers.CharField(help_text="The item's stable id; send it back with the answer.")
    position = serializers.IntegerField()
    type = serializers.CharField()
    subskill = serializers.CharField()
    subskill_name = serializers.CharField()
    stem = serializers.CharField(help_text="Markdown.")
    options = _OptionOutput(many=True)
    answered = serializers.BooleanField()
    response = serializers.JSONField(allow_null=True)


class _ReviewOutput(QuestionOutput):
    level = serializers.CharField()
    level_name = serializers.CharField()
    options = _ReviewOptionOutput(many=True)  # the review adds why and the key to each option
    key_withheld = serializers.BooleanField(
        help_text="Placement items: their key, per-option why, score and explanation are never shown."
    )
    answer = serializers.JSONField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField(allow_blank=True)
    references = serializers.ListField(child=serializers.DictField())
    tags = serializers.ListField(child=serializers.CharField())


class _SelfCheckOutput(serializers.Serializer[Any]):
    question = serializers.CharField()
    text = serializers.CharField()
    subskills = serializers.ListField(child=serializers.CharField())
    confidence = serializers.IntegerField(allow_null=True)


class _QuizRefOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()


class _ProgressOutput(serializers.Serializer[Any]):
    served = serializers.IntegerField()
    answered = serializers.IntegerField()
    finished = serializers.BooleanField()


class AttemptOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    quiz = _QuizRefOutput()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    progress = _ProgressOutput()
    questions = QuestionOutput(many=True, help_text="Open attempts only; never with answers.")
    self_check = _SelfCheckOutput(many=True, required=False)
    review = _ReviewOutput(many=True, required=False, help_text="After submit only.")
    results = serializers.JSONField(
        required=False,
        help_text="After submit: score, per-sub-skill estimates (theta, se, level, confidence), "
        "feedback, study_next.",
    )


class QuizListApi(APIView):
    permission_classes = [AllowAny]

    class Output(serializers.Serializer[Any]):
        class Meta:
            ref_name = "Quiz"

        slug = serializers.CharField()
        kind = serializers.CharField()
        title = serializers.CharField()
        description = serializers.CharField()
        subskill = serializers.CharField(source="subskill.slug", allow_null=True, default=None)
        settings = serializers.JSONField()

    @extend_schema(summary="List the published quizzes", responses=Output(many=True))
    def get(self, request: Request) -> Response:
        quizzes = selectors.quiz_list_published()
        return Response(self.Output(quizzes, many=True).data)


class AttemptStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Start an attempt of a quiz (or resume your open one)",
        request=None,
        responses={201: AttemptOutput, 200: AttemptOutput},
    )
    def post(self, request: Request, slug: str) -> Response:
        quiz = selectors.quiz_get_published(slug=slug)
        attempt, created = services.attempt_start(learner=_learner(request), quiz=quiz)
        data = AttemptOutput(selectors.attempt_payload(attempt=attempt)).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AttemptDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="One of your attempts", responses=AttemptOutput)
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, learner=_learner(request))
        return Response(AttemptOutput(selectors.attempt_payload(attempt=attempt)).data)


class AttemptAnswerApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "answers"

    class Input(serializers.Serializer[Any]):
        class Meta:
            ref_name = "AttemptAnswer"

        item = serializers.CharField(required=False, help_text="Item id, e.g. ms-b-001.")
        response = serializers.JSONField(
            required=False,
            help_text='single: "b"; multiple: ["a", "c"]; true_false: true; numeric: 0.1; '
            'ordering: ["c", "a", "d", "b"].',
        )
        question = serializers.CharField(required=False, help_text="Self-check question id.")
        confidence = serializers.IntegerField(required=False, min_value=1, max_value=5)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            answer = "item" in attrs and "response" in self.initial_data
            rating = "question" in attrs and "confidence" in attrs
            if answer == rating:
                raise serializers.ValidationError(
                    "Send either {item, response} to answer a question, or "
                    "{question, confidence} to rate a self-check question."
                )
            attrs["response"] = self.initial_data.get("response")
            return attrs

    class Output(serializers.Serializer[Any]):
        class Meta:
            ref_name = "AttemptAnswerResult"

        item = serializers.CharField(required=False)
        question = serializers.CharField(required=False)
        recorded = serializers.BooleanField()
        next = QuestionOutput(required=False, allow_null=True, help_text="Placement: the next item.")
        finished = serializers.BooleanField(help_text="Placement: no more items; submit now.")

    @extend_schema(
        summary="Answer one question (or rate one self-check question)",
        request=Input,
        responses={
            201: Output,
            400: OpenApiResponse(description="Malformed response, wrong item, or past the deadline."),
            409: OpenApiResponse(description="Already answered, or the attempt is closed."),
        },
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, learner=_learner(request))
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "question" in values:
            services.self_rating_record(
                attempt=attempt, question_key=values["question"], confidence=values["confidence"]
            )
            body = {
                "question": values["question"],
                "recorded": True,
                "next": None,
                "finished": False,
            }
            return Response(self.Output(body).data, status=status.HTTP_201_CREATED)
        outcome = services.attempt_answer(
            attempt=attempt, item_key=values["item"], response=values["response"]
        )
        next_question = None
        if outcome.next_item is not None:
            next_question = next(
                q
                for q in selectors.attempt_payload(attempt=attempt)["questions"]
                if q["item"] == outcome.next_item.item.key
            )
        body = {
            "item": values["item"],
            "recorded": True,
            "next": next_question,
            "finished": outcome.finished,
        }
        return Response(self.Output(body).data, status=status.HTTP_201_CREATED)


class AttemptSubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Submit an attempt: score, per-sub-skill estimate, feedback, what to study next",
        request=None,
        responses={
            200: AttemptOutput,
            409: OpenApiResponse(description="Already submitted."),
        },
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_get_for_learner(attempt_id=attempt_id, learner=_learner(request))
        attempt = services.attempt_submit(attempt=attempt)
        return Response(AttemptOutput(selectors.attempt_payload(attempt=attempt)).data)
