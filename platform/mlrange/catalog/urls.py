"""Page routes of mlrange.catalog (the skill guide)."""

from django.urls import path

from mlrange.catalog import views

app_name = "catalog"
urlpatterns = [
    path("levels/", views.levels, name="levels"),
    path("path/", views.learning_path, name="path"),
    path("resources/", views.resources, name="resources"),
    path("skills/<slug:slug>/", views.subskill_detail, name="subskill"),
    path("misconceptions/", views.misconceptions, name="misconceptions"),
    path("use-cases/", views.use_cases, name="use_cases"),
    path("projects/", views.projects, name="projects"),
    path("faq/", views.faq, name="faq"),
    path("careers/", views.careers, name="careers"),
]
