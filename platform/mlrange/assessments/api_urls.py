"""API routes of mlrange.assessments, mounted under /api/v1/."""

from django.urls import URLPattern, path

from mlrange.assessments import apis

urlpatterns: list[URLPattern] = [
    path("quizzes/", apis.QuizListApi.as_view(), name="quiz-list"),
    path("quizzes/<slug:slug>/attempts/", apis.AttemptStartApi.as_view(), name="attempt-start"),
    path("attempts/<int:attempt_id>/", apis.AttemptDetailApi.as_view(), name="attempt-detail"),
    path("attempts/<int:attempt_id>/answers/", apis.AttemptAnswerApi.as_view(), name="attempt-answer"),
    path("attempts/<int:attempt_id>/submit/", apis.AttemptSubmitApi.as_view(), name="attempt-submit"),
]
