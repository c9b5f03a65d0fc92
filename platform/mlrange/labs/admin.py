"""Admin for labs: metered service budgets (an instructor's request to reset one lands here)."""

from django.contrib import admin

from mlrange.labs.models import ServiceMeter


@admin.register(ServiceMeter)
class ServiceMeterAdmin(admin.ModelAdmin[ServiceMeter]):
    list_display = ("learner", "lab", "service", "used", "budget", "updated_at")
    list_filter = ("lab", "service")
    search_fields = ("learner__username",)
    readonly_fields = ("learner", "lab", "service", "variant_key", "budget", "updated_at")
