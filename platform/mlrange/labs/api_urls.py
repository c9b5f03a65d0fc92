"""API routes of mlrange.labs, mounted under /api/v1/."""

from django.urls import path

from mlrange.labs import apis

urlpatterns = [
    path("labs/", apis.LabListApi.as_view(), name="lab-list"),
    path("labs/<slug:slug>/", apis.LabDetailApi.as_view(), name="lab-detail"),
    path(
        "labs/<slug:slug>/submissions/",
        apis.SubmissionCreateApi.as_view(),
        name="lab-submission-create",
    ),
    path("labs/<slug:slug>/draft/", apis.LabDraftApi.as_view(), name="lab-draft"),
    path(
        "labs/<slug:slug>/submissions/mine/",
        apis.SubmissionListApi.as_view(),
        name="lab-submission-list",
    ),
    path("labs/<slug:slug>/hints/", apis.LabHintsApi.as_view(), name="lab-hints"),
    path(
        "submissions/<uuid:submission_id>/",
        apis.SubmissionDetailApi.as_view(),
        name="submission-detail",
    ),
    path(
        "submissions/<uuid:submission_id>/notebook/",
        apis.SubmissionNotebookApi.as_view(),
        name="submission-notebook",
    ),
]
