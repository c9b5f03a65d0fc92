"""What MLRange adds to django-lti's registrations, deployments, users and contexts.

django-lti (``lti_tool``) keeps the platform side: registrations, deployments, the tool's
keys, LMS users, contexts (courses), memberships and resource links. These models tie them
to MLRange: a context's cohort, what a resource link opens, line items, and the outbox of
scores waiting to reach an LMS gradebook.
"""

from django.conf import settings
from django.db import models


class Target(models.TextChoices):
    """What a resource link opens, written `kind` or `kind:slug` in the link's custom claim."""

    LAB = "lab", "Lab"
    QUIZ = "quiz", "Quiz"
    PLACEMENT = "placement", "Placement test"
    DASHBOARD = "dashboard", "Dashboard"


class LtiAccount(models.Model):
    """The MLRange account an LMS user (one registration's `sub`) signs in as."""

    lti_user = models.OneToOneField("lti_tool.LtiUser", on_delete=models.CASCADE, related_name="mlrange")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.lti_user} -> {self.user_id}"


class LtiCourse(models.Model):
    """An LMS course (context) and the MLRange cohort it became."""

    context = models.OneToOneField("lti_tool.LtiContext", on_delete=models.CASCADE, related_name="mlrange")
    cohort = models.OneToOneField("progress.Cohort", on_delete=models.CASCADE, related_name="lti_course")
    roster_synced_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.cohort)


class UsedNonce(models.Model):
    """Nonces of accepted launches: a second launch with one is a replay and is refused."""

    nonce = models.CharField(max_length=255, unique=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.nonce


class LineItem(models.Model):
    """A gradebook column MLRange owns on one LMS course, one per lab or quiz. Created once."""

    context = models.ForeignKey(
        "lti_tool.LtiContext", on_delete=models.CASCADE, related_name="mlrange_line_items"
    )
    target = models.CharField(max_length=10, choices=Target.choices)
    slug = models.SlugField()
    label = models.CharField(max_length=255)
    score_maximum = models.FloatField()
    url = models.URLField(max_length=500, blank=True, help_text="Empty until the LMS has the line item.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("context", "target", "slug"), name="lti_line_item_once"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def resource_id(self) -> str:
        return f"{self.target}:{self.slug}"


class ScoreSend(models.Model):
    """One score to post to an LMS (the outbox). Unique per line item, LMS user and source.

    The source is the submission or attempt that made it the learner's best; the row is
    written in the same transaction as nothing else and sent by a Celery task, retried while
    the LMS is down. A row is sent at most once successfully (status moves to SENT under a
    row lock); its fixed timestamp makes a repeated post after a crash a no-op for the LMS.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="sends")
    lti_user = models.ForeignKey("lti_tool.LtiUser", on_delete=models.CASCADE, related_name="mlrange_sends")
    source = models.CharField(max_length=80, help_text="submission:<id> or attempt:<id>.")
    score_given = models.FloatField()
    score_maximum = models.FloatField()
    timestamp = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    tries = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("line_item", "lti_user", "source"), name="lti_score_send_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source} -> {self.line_item_id} ({self.status})"
