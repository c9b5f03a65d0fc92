"""Page routes of mlrange.labs."""

from django.urls import path

from mlrange.labs import views

app_name = "labs"
urlpatterns = [
    path("", views.lab_list, name="index"),
    path("submissions/<uuid:submission_id>/", views.submission_detail, name="submission"),
    path(
        "submissions/<uuid:submission_id>/status/",
        views.submission_status,
        name="submission_status",
    ),
    path(
        "submissions/<uuid:submission_id>/notebook.ipynb",
        views.submission_notebook,
        name="submission_notebook",
    ),
    path(
        "submissions/<uuid:submission_id>/restore/",
        views.submission_restore,
        name="submission_restore",
    ),
    path("<slug:slug>/", views.lab_detail, name="detail"),
    path("<slug:slug>/draft/reset/", views.lab_draft_reset, name="draft_reset"),
    path("<slug:slug>/history/", views.lab_history, name="history"),
    path("<slug:slug>/submit/", views.lab_submit, name="submit"),
    path("<slug:slug>/hints/", views.lab_hint_reveal, name="hints"),
    path("<slug:slug>/starter.ipynb", views.lab_notebook, name="notebook"),
]
