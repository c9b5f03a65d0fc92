"""Labs (synced from the lab packs in labs/) and learners' submissions to them."""

import uuid

from django.conf import settings
from django.db import models


class Lab(models.Model):
    """A lab pack as the database knows it; the pack's files under labs/<slug>/ are the source."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    subskill = models.ForeignKey("catalog.SubSkill", on_delete=models.PROTECT, related_name="labs")
    level = models.ForeignKey("catalog.Level", on_delete=models.PROTECT, related_name="labs")
    atlas = models.JSONField(default=list)
    owasp = models.JSONField(default=list)
    time_budget_minutes = models.PositiveIntegerField(default=30)
    pass_points = models.FloatField(default=0)
    max_points = models.FloatField(default=100)
    content_hash = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("level__order", "subskill__order", "slug")

    def __str__(self) -> str:
        return self.title


class Submission(models.Model):
    """One run or graded attempt. Written before anything is queued: the database is the truth."""

    class Mode(models.TextChoices):
        RUN = "run", "Run (scratch, no score)"
        GRADE = "grade", "Grade"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"  # a scratch run that finished; runs have no pass/fail
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERROR = "error", "Error"
        TIMED_OUT = "timed_out", "Timed out"

    class Source(models.TextChoices):
        EDITOR = "editor", "Code typed in the page or sent as text"
        NOTEBOOK = "notebook", "Uploaded Jupyter notebook"

    FINAL_STATUSES = (
        Status.COMPLETED,
        Status.PASSED,
        Status.FAILED,
        Status.ERROR,
        Status.TIMED_OUT,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="submissions")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EDITOR)
    notebook_name = models.CharField(max_length=200, blank=True)
    cells = models.JSONField(help_text="The code cells to execute, in order.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(
        null=True, blank=True, help_text="A running submission past this is stuck."
    )
    deliveries = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it.")
    worker = models.CharField(max_length=200, blank=True)
    score = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    checks = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="What happened, in words a learner can act on.")
    execution_seconds = models.FloatField(null=True, blank=True)
    grading_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["learner", "lab", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.lab_id}:{self.mode}:{self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class ServiceMeter(models.Model):
    """What a metered lab service (e.g. a query-budgeted oracle) has served one learner, for
    one variant of a lab, over all their executions. A new execution reserves everything still
    left before it starts and gives back what it did not use when it ends, so concurrent runs
    cannot spend a budget twice and a run that dies keeps its reservation spent."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=32)
    variant_key = models.CharField(max_length=32, help_text="Digest of the learner's lab variant.")
    budget = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0, help_text="Served or reserved; an admin may lower it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "lab", "service", "variant_key"], name="unique_service_meter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lab_id}:{self.service}:{self.used}/{self.budget}"


class HintReveal(models.Model):
    """A hint of a lab that a learner chose to see. Hints are revealed in order, one row each,
    so the rows of a learner and lab are always hints 1..n: what they have seen, and when."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="hint_reveals")
    number = models.PositiveSmallIntegerField(help_text="1 for the lab's first hint.")
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("lab", "number")
        constraints = [
            models.UniqueConstraint(fields=["learner", "lab", "number"], name="unique_hint_reveal"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="hint_number_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.lab_id}:hint {self.number}"


class Draft(models.Model):
    """The code a learner is writing for a lab, saved as they type: the editor opens on it."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="+")
    code = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "lab"], name="unique_draft_per_lab")]

    def __str__(self) -> str:
        return f"{self.lab_id}:{self.learner_id}"
