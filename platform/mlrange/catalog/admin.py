"""Admin of the catalog: read-only, because `load_curriculum` owns these rows (edit curriculum/)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mlrange.catalog import models


class CurriculumAdmin(admin.ModelAdmin[Any]):
    """View-only: changes made here would be overwritten by the next `load_curriculum`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Level)
class LevelAdmin(CurriculumAdmin):
    list_display = ("order", "name", "slug", "summary")
    search_fields = ("slug", "name")


@admin.register(models.SubSkill)
class SubSkillAdmin(CurriculumAdmin):
    list_display = ("order", "name", "slug", "weight")
    search_fields = ("slug", "name")


@admin.register(models.Guide)
class GuideAdmin(CurriculumAdmin):
    list_display = ("title", "slug", "tagline")


@admin.register(models.PathStage)
class PathStageAdmin(CurriculumAdmin):
    list_display = ("order", "title", "level", "slug")
    list_select_related = ("level",)


@admin.register(models.Misconception)
class MisconceptionAdmin(CurriculumAdmin):
    list_display = ("order", "misconception", "slug")
    search_fields = ("slug", "misconception", "correction")


@admin.register(models.UseCase)
class UseCaseAdmin(CurriculumAdmin):
    list_display = ("order", "title", "difficulty", "slug")
    list_select_related = ("difficulty",)


@admin.register(models.PortfolioProject)
class PortfolioProjectAdmin(CurriculumAdmin):
    list_display = ("order", "title", "difficulty", "slug")
    list_select_related = ("difficulty",)


@admin.register(models.SelfCheckQuestion)
class SelfCheckQuestionAdmin(CurriculumAdmin):
    list_display = ("order", "text", "slug")


@admin.register(models.QuickQuizQuestion)
class QuickQuizQuestionAdmin(CurriculumAdmin):
    list_display = ("order", "question", "slug")


@admin.register(models.RedFlag)
class RedFlagAdmin(CurriculumAdmin):
    list_display = ("order", "text", "subskill", "slug")
    list_filter = ("subskill",)
    list_select_related = ("subskill",)


@admin.register(models.Resource)
class ResourceAdmin(CurriculumAdmin):
    list_display = ("order", "title", "kind", "is_free", "url")
    list_filter = ("is_free", "kind")
    search_fields = ("slug", "title")


@admin.register(models.Role)
class RoleAdmin(CurriculumAdmin):
    list_display = ("order", "title", "kind", "slug")
    list_filter = ("kind",)


@admin.register(models.Industry)
class IndustryAdmin(CurriculumAdmin):
    list_display = ("order", "name", "slug")


@admin.register(models.AtsKeyword)
class AtsKeywordAdmin(CurriculumAdmin):
    list_display = ("order", "term", "tier", "slug")
    list_filter = ("tier",)
    search_fields = ("slug", "term")


@admin.register(models.ResumePhrase)
class ResumePhraseAdmin(CurriculumAdmin):
    list_display = ("order", "text", "subskill", "slug")
    list_select_related = ("subskill",)


@admin.register(models.FaqEntry)
class FaqEntryAdmin(CurriculumAdmin):
    list_display = ("order", "question", "slug")
