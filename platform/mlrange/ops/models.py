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


class WorkerHeartbeat(models.Model):
    """What one worker process last said about itself: alive, whether labs can run there, and
    how many kernels it holds ready per profile. Written by the worker every few seconds."""

    worker = models.CharField(max_length=200, unique=True, help_text="host:pid of the process")
    last_seen = models.DateTimeField(db_index=True)
    isolation = models.CharField(max_length=20, blank=True)
    sandbox_problem = models.TextField(blank=True)
    pools = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.worker} {self.last_seen:%H:%M:%S}"
