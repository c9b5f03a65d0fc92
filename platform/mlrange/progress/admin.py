"""Admin of progress: cohorts and their members; snapshots are a cache, read-only."""

from django.contrib import admin

from mlrange.progress.models import Cohort, CohortMembership, DeliverableLink, ProgressSnapshot


class CohortMembershipInline(admin.TabularInline[CohortMembership, Cohort]):
    model = CohortMembership
    extra = 0
    raw_id_fields = ("learner",)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin[Cohort]):
    list_display = ("name", "code", "created_by", "created_at")
    search_fields = ("name", "code")
    filter_horizontal = ("instructors",)
    inlines = [CohortMembershipInline]


@admin.register(DeliverableLink)
class DeliverableLinkAdmin(admin.ModelAdmin[DeliverableLink]):
    list_display = ("learner", "stage_slug", "deliverable_index", "url", "updated_at")
    raw_id_fields = ("learner",)


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(admin.ModelAdmin[ProgressSnapshot]):
    list_display = ("learner", "computed_at", "stamp")
    readonly_fields = ("learner", "stamp", "data", "computed_at")
