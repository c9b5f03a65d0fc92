"""Celery tasks of the ops app."""

import socket

from celery import shared_task

from mlrange.ops.services import worker_ping_answer_record


@shared_task(soft_time_limit=10, time_limit=15)
def worker_ping_answer(*, ping_id: int) -> None:
    worker_ping_answer_record(ping_id=ping_id, hostname=socket.gethostname())
