"""Operational records: proof that a worker picked a task off the queue."""

from django.db import models


class WorkerPing(models.Model):
    """Written by the web side, answered by a Celery worker (the task records who answered)."""

    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"ping {self.pk} answered_by={self.answered_by or '-'}"
