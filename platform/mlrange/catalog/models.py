"""The skill guide as data: levels and sub-skills (more content models follow in this app)."""

from django.db import models


class Level(models.Model):
    """A proficiency level: Beginner, Intermediate, Advanced, Expert (ordered by `order`)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=64)
    order = models.PositiveSmallIntegerField(unique=True)
    summary = models.TextField()
    can_do = models.JSONField(default=list, help_text="What you can do at this level.")

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

    class Meta:
        ordering = ("order",)

    def __str__(self) -> str:
        return self.name
