"""Admin of mlrange.assessments: the bank is read-mostly (it comes from curriculum/)."""

from django.contrib import admin

from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz, SelfRating


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    list_display = (
        "key",
        "subskill",
        "level",
        "type",
        "irt_a",
        "irt_b",
        "irt_c",
        "is_active",
        "is_calibrated",
    )
    list_filter = ("subskill", "level", "type", "is_active", "is_calibrated")
    search_fields = ("key", "stem", "tags")


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin[Quiz]):
    list_display = ("slug", "kind", "title", "subskill", "is_published", "order")
    list_filter = ("kind", "is_published")


class AttemptItemInline(admin.TabularInline[AttemptItem, Attempt]):
    model = AttemptItem
    extra = 0
    readonly_fields = ("item", "position", "option_order", "response", "score", "answered_at")


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin[Attempt]):
    list_display = ("id", "learner", "quiz", "status", "started_at", "submitted_at")
    list_filter = ("status", "quiz")
    inlines = (AttemptItemInline,)


@admin.register(SelfRating)
class SelfRatingAdmin(admin.ModelAdmin[SelfRating]):
    list_display = ("attempt", "question_key", "confidence")
