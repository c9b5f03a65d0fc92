"""The question bank, quizzes, learners' attempts and their answers, and self-ratings."""

from django.conf import settings
from django.db import models


class Item(models.Model):
    """One question of the bank, loaded from curriculum/questions/ under a stable `key`.

    `pool` keeps the placement test's items apart from the ones practice reviews explain
    (bank.POOLS). Removed from the files: retired (`is_active=False`), kept for past attempts' history.
    `irt_a`/`irt_b` are the live 2PL parameters; `initial_irt_*` what the files say
    (recalibration changes only the live ones). `irt_c` is the guessing floor, fixed by
    the item's format (`bank.guessing_floor`), never recalibrated.
    """

    class Type(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        TRUE_FALSE = "true_false", "True or false"
        NUMERIC = "numeric", "Numeric"
        ORDERING = "ordering", "Ordering"

    class Pool(models.TextChoices):
        PLACEMENT = "placement", "Placement (key never shown)"
        PRACTICE = "practice", "Practice (reviewed with its key)"

    class Scoring(models.TextChoices):
        NONE = "", "Not applicable"
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        PARTIAL = "partial", "Partial credit"

    key = models.CharField(max_length=32, unique=True, help_text="Stable id, e.g. ms-b-001.")
    subskill = models.ForeignKey(
        "catalog.SubSkill", on_delete=models.PROTECT, related_name="assessment_items"
    )
    level = models.ForeignKey("catalog.Level", on_delete=models.PROTECT, related_name="assessment_items")
    type = models.CharField(max_length=16, choices=Type.choices)
    stem = models.TextField()
    options = models.JSONField(default=list, blank=True, help_text="[{id, text, why}, ...]")
    answer = models.JSONField(help_text="The key; never sent to a learner while an attempt is open.")
    scoring = models.CharField(max_length=16, choices=Scoring.choices, blank=True, default="")
    explanation = models.TextField()
    references = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=32, blank=True, default="")
    pool = models.CharField(
        max_length=16,
        choices=Pool.choices,
        default=Pool.PLACEMENT,
        help_text="Placement items serve only the placement test and their keys are never shown; "
        "practice items serve practice and quick quizzes. Once practice, always practice.",
    )
    irt_a = models.FloatField()
    irt_b = models.FloatField()
    initial_irt_a = models.FloatField()
    initial_irt_b = models.FloatField()
    irt_c = models.FloatField(
        default=0.0,
        help_text="Guessing floor: the chance of a right answer without the knowledge (1/options "
        "for single choice, 1/2 for true/false, 0 otherwise). Set by the item's format.",
    )
    is_active = models.BooleanField(default=True)
    is_calibrated = models.BooleanField(default=False)
    calibrated_at = models.DateTimeField(null=True, blank=True)
    calibration_responses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("key",)
        indexes = [models.Index(fields=("subskill", "is_active")), models.Index(fields=("pool", "is_active"))]

    def __str__(self) -> str:
        return self.key

    @property
    def option_ids(self) -> list[str]:
        return [str(option["id"]) for option in self.options]


class Quiz(models.Model):
    class Kind(models.TextChoices):
        SELF_CHECK = "self_check", "Self-check"
        QUICK_QUIZ = "quick_quiz", "Quick quiz"
        PRACTICE = "practice", "Practice"
        PLACEMENT = "placement", "Placement test"

    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    subskill = models.ForeignKey(
        "catalog.SubSkill", on_delete=models.PROTECT, null=True, blank=True, related_name="quizzes"
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="item_count, time_limit_minutes, and for placement: min/max items per sub-skill, "
        "exposure_top_k, credible_mass.",
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ("order", "slug")
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title


class Attempt(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Expired"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    seed = models.PositiveBigIntegerField()
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=("learner", "quiz", "status"))]

    def __str__(self) -> str:
        return f"{self.quiz.slug} #{self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AttemptItem(models.Model):
    """An item served in an attempt, its option order for that attempt, and the answer."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="attempt_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="attempt_items")
    position = models.PositiveSmallIntegerField()
    option_order = models.JSONField(default=list, blank=True)
    response = models.JSONField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("attempt", "position")
        constraints = [
            models.UniqueConstraint(fields=("attempt", "item"), name="attempt_item_once"),
            models.UniqueConstraint(fields=("attempt", "position"), name="attempt_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}:{self.position}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class SelfRating(models.Model):
    """A confidence rating (1-5) of one self-check question within a self-check attempt."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="self_ratings")
    question_key = models.CharField(max_length=32)
    question_text = models.TextField()
    subskills = models.JSONField(default=list)
    confidence = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("attempt", "question_key")
        constraints = [
            models.UniqueConstraint(fields=("attempt", "question_key"), name="self_rating_once"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=1, confidence__lte=5),
                name="self_rating_confidence_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_key}={self.confidence}"
