"""App config for mlrange.ops."""

import logging
from typing import Any

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "mlrange.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import (
            after_setup_logger,
            after_setup_task_logger,
            worker_init,
            worker_process_init,
        )

        worker_process_init.connect(_start_heartbeats, weak=False)
        worker_init.connect(_start_metrics_exporter, weak=False)
        after_setup_logger.connect(_log_format_for_celery, weak=False)
        after_setup_task_logger.connect(_log_format_for_celery, weak=False)


def _start_heartbeats(**_: object) -> None:
    """Each prefork child reports itself (after the fork, never before)."""
    from mlrange.ops.services import worker_heartbeats_start

    worker_heartbeats_start()


def _start_metrics_exporter(**_: object) -> None:
    """In the worker's main process (before the pool forks): serve the pool's metrics when
    METRICS_ENABLED and METRICS_WORKER_PORT are set."""
    from django.conf import settings

    if settings.METRICS_ENABLED and settings.METRICS_WORKER_PORT:
        from mlrange.ops.exposition import worker_exporter_start

        worker_exporter_start(
            addr=settings.METRICS_WORKER_ADDR, port=settings.METRICS_WORKER_PORT, token=settings.METRICS_TOKEN
        )


def _log_format_for_celery(*, logger: logging.Logger, **_: Any) -> None:
    """Celery replaces the root logger's handlers with its own; with LOG_FORMAT=json they get the
    JSON formatter too, so a worker's lines are JSON like the web's."""
    from django.conf import settings

    if settings.LOG_FORMAT == "json":
        from mlrange.ops.log_format import JsonFormatter

        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())
