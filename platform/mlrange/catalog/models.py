"""The skill guide as data: levels, sub-skills and every other section of the guide.

Rows are written only by `manage.py load_curriculum` (mlrange.catalog.services), which upserts
them by slug from the files in curriculum/: edit the files, not the rows.
"""

from django.db import models


class Level(models.Model):
    """A proficiency level: Beginner, Intermediate, Advanced, Expert (ordered by `order`)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=64)
    order = models.PositiveSmallIntegerField(unique=True)
    summary = models.TextField()
    can_do = models.JSONField(default=list, help_text="What you can do at this level.")
    next_step = models.TextField(blank=True, help_text="What it takes to reach the next level.")

    class Meta:
        ordering = ("order",)

    def __str__(self) -> str:
        return self.name


class SubSkill(models.Model):
    """One of the guide's sub-skills, e.g. Model Security and Robustness."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(unique=True)
    description = models.TextField()
    example_tasks = models.JSONField(default=list)
    weight = models.PositiveSmallIntegerField(
        default=0, help_text="Share of overall proficiency, in percent (all sub-skills sum to 100)."
    )
    weight_rationale = models.TextField(blank=True)
    atlas_ids = models.JSONField(default=list, help_text="MITRE ATLAS ids this sub-skill concerns.")
    owasp_ids = models.JSONField(default=list, help_text="OWASP ML Top 10 (2023) ids, ML01-ML10.")
    nist_functions = models.JSONField(default=list, help_text="NIST AI RMF functions.")

    class Meta:
        ordering = ("order",)

    def __str__(self) -> str:
        return self.name


class Guide(models.Model):
    """The guide's overview and its short lists of tips (one row per guide; MLRange has one)."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=120)
    tagline = models.CharField(max_length=300)
    what_is = models.TextField(help_text="Markdown.")
    why_it_matters = models.JSONField(default=list)
    outcomes = models.JSONField(default=list, help_text="What you can do after mastering it.")
    portfolio_tips = models.JSONField(default=list)
    learning_tips = models.JSONField(default=list)
    ats_tips = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.title


class OrderedContent(models.Model):
    """Base of the guide's list items: a stable slug and the position in its file."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField()

    class Meta:
        abstract = True
        ordering = ("order",)


class PathStage(OrderedContent):
    """One of the learning path's stages, with goals, key topics, actions and deliverables."""

    title = models.CharField(max_length=200)
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="path_stages")
    summary = models.TextField()
    goals = models.JSONField(default=list)
    key_topics = models.JSONField(
        default=list, help_text="[{title, detail, atlas_ids, owasp_ids, nist_functions}]"
    )
    recommended_actions = models.JSONField(default=list)
    deliverables = models.JSONField(default=list)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class Misconception(OrderedContent):
    """A common misconception about AI/ML security and its correction."""

    misconception = models.TextField()
    correction = models.TextField()
    detail = models.TextField(blank=True)
    subskills = models.ManyToManyField(SubSkill, related_name="misconceptions")
    atlas_ids = models.JSONField(default=list)
    owasp_ids = models.JSONField(default=list)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.misconception


class UseCase(OrderedContent):
    """A typical use case of AI/ML security, with its difficulty."""

    title = models.CharField(max_length=200)
    difficulty = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="use_cases")
    description = models.TextField()
    key_controls = models.JSONField(default=list)
    subskills = models.ManyToManyField(SubSkill, related_name="use_cases")
    atlas_ids = models.JSONField(default=list)
    owasp_ids = models.JSONField(default=list)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class PortfolioProject(OrderedContent):
    """A portfolio project idea: what to build, with what, and what recruiters notice."""

    title = models.CharField(max_length=200)
    difficulty = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="projects")
    summary = models.TextField()
    suggested_stack = models.JSONField(default=list)
    recruiters_notice = models.JSONField(default=list)
    subskills = models.ManyToManyField(SubSkill, related_name="projects")
    atlas_ids = models.JSONField(default=list)
    owasp_ids = models.JSONField(default=list)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class SelfCheckQuestion(OrderedContent):
    """A yes/no self-check question, tagged with the sub-skills it probes."""

    text = models.TextField()
    subskills = models.ManyToManyField(SubSkill, related_name="self_check_questions")

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.text


class QuickQuizQuestion(OrderedContent):
    """A question of the guide's quick quiz: one correct choice, each choice explained."""

    question = models.TextField()
    choices = models.JSONField(default=list, help_text="[{text, is_correct, explanation}]")
    subskills = models.ManyToManyField(SubSkill, related_name="quick_quiz_questions")
    atlas_ids = models.JSONField(default=list)
    owasp_ids = models.JSONField(default=list)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.question


class RedFlag(OrderedContent):
    """A pattern that reveals a skill gap in one sub-skill, and what to do about it."""

    text = models.TextField()
    subskill = models.ForeignKey(SubSkill, on_delete=models.PROTECT, related_name="red_flags")
    remedy = models.TextField(blank=True)

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.text


class Resource(OrderedContent):
    """A learning resource; its URL is text shown to the reader, never fetched."""

    class Kind(models.TextChoices):
        COURSE = "course", "Course"
        BOOK = "book", "Book"
        FRAMEWORK = "framework", "Framework"
        TOOL = "tool", "Tool"
        COMMUNITY = "community", "Community"
        GUIDE = "guide", "Guide"
        CERTIFICATION = "certification", "Certification"

    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    is_free = models.BooleanField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField()
    subskills = models.ManyToManyField(SubSkill, related_name="resources")

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class Role(OrderedContent):
    """A job role where AI/ML security is core (primary) or helpful (secondary)."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Core requirement"
        SECONDARY = "secondary", "Helpful, not required"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField()
    subskills = models.ManyToManyField(SubSkill, related_name="roles")

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class Industry(OrderedContent):
    """An industry where AI/ML security is used, and why."""

    name = models.CharField(max_length=200)
    description = models.TextField()

    class Meta(OrderedContent.Meta):
        verbose_name_plural = "industries"

    def __str__(self) -> str:
        return self.name


class AtsKeyword(OrderedContent):
    """A resume keyword for applicant tracking systems; its slug is derived from the term."""

    class Tier(models.TextChoices):
        MUST_HAVE = "must_have", "Must have"
        GOOD_TO_HAVE = "good_to_have", "Good to have"

    term = models.CharField(max_length=200)
    tier = models.CharField(max_length=20, choices=Tier.choices)

    class Meta(OrderedContent.Meta):
        verbose_name = "ATS keyword"

    def __str__(self) -> str:
        return self.term


class ResumePhrase(OrderedContent):
    """An example resume bullet point showing one sub-skill with a measured result."""

    text = models.TextField()
    subskill = models.ForeignKey(SubSkill, on_delete=models.PROTECT, related_name="resume_phrases")

    class Meta(OrderedContent.Meta):
        pass

    def __str__(self) -> str:
        return self.text


class FaqEntry(OrderedContent):
    """A frequently asked question and its Markdown answer."""

    question = models.CharField(max_length=300)
    answer = models.TextField(help_text="Markdown.")

    class Meta(OrderedContent.Meta):
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question
