"""Admin for labs: metered service budgets (an instructor's request to reset one lands here), hints taken."""

from django.contrib import admin
from django.http import HttpRequest

from mlrange.labs.models import HintReveal, ServiceMeter


@admin.register(ServiceMeter)
class ServiceMeterAdmin(admin.ModelAdmin[ServiceMeter]):
    list_display = ("learner", "lab", "service", "used", "budget", "updated_at")
    list_filter = ("lab", "service")
    search_fields = ("learner__username",)
    readonly_fields = ("learner", "lab", "service", "variant_key", "budget", "updated_at")


@admin.register(HintReveal)
class HintRevealAdmin(admin.ModelAdmin[HintReveal]):
    """Read-only: a reveal is a record of what a learner saw, not something to edit."""

    list_display = ("learner", "lab", "number", "revealed_at")
    list_filter = ("lab",)
    search_fields = ("learner__username",)
    readonly_fields = ("learner", "lab", "number", "revealed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
