"""App config for mlrange.labs: ties the per-process kernel pool to Celery's worker lifecycle."""

from typing import Any

from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "mlrange.labs"
    label = "labs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_process_init, worker_process_shutdown

        from mlrange.catalog.content import register_content_loader
        from mlrange.labs.loader import labs_load, labs_validate

        register_content_loader("labs", labs_validate, labs_load)
        worker_process_init.connect(_warm_pool, weak=False)
        worker_process_shutdown.connect(_stop_pool, weak=False)


def _warm_pool(**_: Any) -> None:
    """After the prefork child exists (never before the fork), start its warm kernels."""
    from django.conf import settings

    if settings.SANDBOX_WARM_ON_START:
        from mlrange.labs import runner
        from mlrange.labs.registry import KERNEL_PROFILES

        if runner.sandbox_problem() is None:
            for kernel in KERNEL_PROFILES:
                runner.get_pool(kernel)


def _stop_pool(**_: Any) -> None:
    from mlrange.labs import runner

    runner.shutdown_pool()
