"""Celery tasks for labs: they take ids, call services, and are safe to run twice."""

import os
import socket

from celery import shared_task
from django.conf import settings

from mlrange.labs import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.LABS_SUBMISSION_DEADLINE,
    time_limit=settings.LABS_SUBMISSION_DEADLINE + 30,
)
def submission_execute_task(*, submission_id: str) -> None:
    worker = services.worker_id(host=socket.gethostname(), pid=os.getpid())
    services.submission_execute(submission_id=submission_id, worker=worker)


@shared_task(soft_time_limit=60, time_limit=90)
def submissions_sweep_task() -> None:
    services.submissions_sweep()
