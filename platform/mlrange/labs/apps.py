"""App config for mlrange.labs: ties the per-process kernel pool to Celery's worker lifecycle."""

from typing import Any

from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "mlrange.labs"
    label = "labs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init, worker_process_shutdown

        from mlrange.catalog.content import register_content_loader
        from mlrange.labs.loader import labs_load, labs_validate

        register_content_loader("labs", labs_validate, labs_load)
        worker_init.connect(_build_assets, weak=False)
        worker_process_init.connect(_warm_pool, weak=False)
        worker_process_shutdown.connect(_stop_pool, weak=False)


def _build_assets(**_: Any) -> None:
    """In the worker's main process, before it forks its children and takes work: build or
    verify every lab's assets in this worker's own assets folder (a worker on another machine
    shares nothing with the web but the database and the broker)."""
    from django.conf import settings

    if settings.SANDBOX_BUILD_ASSETS_ON_START:
        import logging

        from mlrange.labs.assets import build_lab_assets
        from mlrange.labs.registry import discover_labs

        log = logging.getLogger("mlrange.labs")
        for spec in discover_labs():
            result = build_lab_assets(spec)
            log.info("lab assets %s: %s", spec.slug, "built" if result.built else "up to date")


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
