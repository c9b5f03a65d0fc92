"""Users and their role on the platform."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LEARNER)

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR
