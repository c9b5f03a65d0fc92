"""Health checks and the worker round trip."""

from django.db import transaction
from django.utils import timezone

from mlrange.ops.models import WorkerPing


@transaction.atomic
def worker_ping_create() -> WorkerPing:
    """Record a ping, then ring the queue once the row is committed."""
    from mlrange.ops.tasks import worker_ping_answer

    ping = WorkerPing.objects.create()
    transaction.on_commit(lambda: worker_ping_answer.delay(ping_id=ping.pk))
    return ping


def worker_ping_answer_record(*, ping_id: int, hostname: str) -> bool:
    """Mark a ping answered. Idempotent: a second delivery changes nothing."""
    updated = WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=hostname
    )
    return updated == 1
