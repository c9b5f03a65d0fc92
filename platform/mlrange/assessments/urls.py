"""Page routes of mlrange.assessments, mounted under /quizzes/."""

from django.urls import path

from mlrange.assessments import views

app_name = "assessments"
urlpatterns = [
    path("", views.quiz_index, name="index"),
    path("<slug:slug>/start/", views.attempt_start, name="start"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/finish/", views.attempt_finish, name="finish"),
    path("attempts/<int:attempt_id>/results/", views.attempt_results, name="results"),
    path("<slug:slug>/", views.quiz_detail, name="detail"),
]
