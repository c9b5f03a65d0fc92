"""Celery tasks of the assessments app."""

from celery import shared_task

from mlrange.assessments import services


@shared_task(soft_time_limit=60, time_limit=90)
def attempts_expire_task() -> None:
    """Close attempts whose time limit has passed (scored on what was answered in time)."""
    services.attempts_expire_overdue()
