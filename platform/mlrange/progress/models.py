"""Cohorts, learners' linked deliverables, and the cached progress of each learner."""

from django.conf import settings
from django.db import models


class Cohort(models.Model):
    """A group of learners followed by its instructors; learners join with `code`."""

    name = models.CharField(max_length=120)
    code = models.CharField(max_length=16, unique=True, help_text="The join code learners type in.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cohorts_created"
    )
    instructors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="cohorts_taught")
    learners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CohortMembership", related_name="cohorts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.name


class CohortMembership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("cohort", "learner")
        constraints = [models.UniqueConstraint(fields=("cohort", "learner"), name="cohort_member_once")]

    def __str__(self) -> str:
        return f"{self.cohort_id}:{self.learner_id}"


class DeliverableLink(models.Model):
    """A URL a learner attaches to one deliverable of a learning-path stage.

    The stage is named by its stable slug (catalog rows are upserted by slug), the
    deliverable by its position in the stage's list.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliverable_links"
    )
    stage_slug = models.SlugField()
    deliverable_index = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("stage_slug", "deliverable_index")
        constraints = [
            models.UniqueConstraint(
                fields=("learner", "stage_slug", "deliverable_index"), name="deliverable_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage_slug}[{self.deliverable_index}]"


class ProgressSnapshot(models.Model):
    """A learner's computed progress, valid while the evidence `stamp` is unchanged."""

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress_snapshot"
    )
    stamp = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"progress of {self.learner_id}"
