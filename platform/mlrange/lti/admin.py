"""Admin: MLRange's side of LTI (django-lti registers registrations, deployments and keys)."""

from django.contrib import admin

from mlrange.lti.models import LineItem, LtiAccount, LtiCourse, ScoreSend


@admin.register(LtiAccount)
class LtiAccountAdmin(admin.ModelAdmin[LtiAccount]):
    list_display = ("lti_user", "user", "created_at")
    raw_id_fields = ("lti_user", "user")
    search_fields = ("user__username", "lti_user__sub", "lti_user__email")


@admin.register(LtiCourse)
class LtiCourseAdmin(admin.ModelAdmin[LtiCourse]):
    list_display = ("cohort", "context", "roster_synced_at")
    raw_id_fields = ("context", "cohort")


@admin.register(LineItem)
class LineItemAdmin(admin.ModelAdmin[LineItem]):
    list_display = ("label", "context", "target", "slug", "url")
    list_filter = ("target",)


@admin.register(ScoreSend)
class ScoreSendAdmin(admin.ModelAdmin[ScoreSend]):
    list_display = ("source", "line_item", "lti_user", "score_given", "status", "tries", "sent_at")
    list_filter = ("status",)
    readonly_fields = ("timestamp", "created_at", "sent_at", "last_error")
