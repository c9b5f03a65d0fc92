"""API routes of mlrange.progress, mounted under /api/v1/."""

from django.urls import path

from mlrange.progress import apis

urlpatterns = [
    path("me/progress/", apis.MyProgressApi.as_view(), name="me-progress"),
    path("cohorts/", apis.CohortsApi.as_view(), name="cohort-list"),
    path("cohorts/join/", apis.CohortJoinApi.as_view(), name="cohort-join"),
    path("cohorts/<int:cohort_id>/progress/", apis.CohortProgressApi.as_view(), name="cohort-progress"),
]
