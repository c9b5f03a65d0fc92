"""Page routes of mlrange.progress, mounted under /dashboard/."""

from django.urls import path

from mlrange.progress import views

app_name = "progress"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("join/", views.cohort_join, name="join"),
    path("deliverables/", views.deliverable_link, name="deliverable"),
    path("cohorts/", views.cohort_create, name="cohort_create"),
    path("cohorts/<int:cohort_id>/", views.cohort_detail, name="cohort"),
    path("cohorts/<int:cohort_id>/export.csv", views.cohort_export, name="cohort_export"),
]
