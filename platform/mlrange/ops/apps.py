"""App config for mlrange.ops."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "mlrange.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_process_init

        worker_process_init.connect(_start_heartbeats, weak=False)


def _start_heartbeats(**_: object) -> None:
    """Each prefork child reports itself (after the fork, never before)."""
    from mlrange.ops.services import worker_heartbeats_start

    worker_heartbeats_start()
