"""API routes of mlrange.catalog, mounted under /api/v1/ (public, read-only)."""

from django.urls import URLPattern, path

from mlrange.catalog import apis

urlpatterns: list[URLPattern] = [
    path("levels/", apis.LevelListApi.as_view(), name="level-list"),
    path("levels/<slug:slug>/", apis.LevelDetailApi.as_view(), name="level-detail"),
    path("subskills/", apis.SubSkillListApi.as_view(), name="subskill-list"),
    path("subskills/<slug:slug>/", apis.SubSkillDetailApi.as_view(), name="subskill-detail"),
    path("paths/", apis.PathStageListApi.as_view(), name="path-list"),
    path("guide/", apis.GuideApi.as_view(), name="guide"),
]
