"""Health checks and the worker round trip."""

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from mlrange.ops.models import WorkerHeartbeat, WorkerPing

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 10.0
HEARTBEAT_FRESH = timedelta(seconds=45)  # a worker heard from within this is alive


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


def worker_heartbeat_record(
    *, worker: str, isolation: str, sandbox_problem: str, pools: dict[str, Any]
) -> None:
    """Upsert this worker process's heartbeat. Idempotent."""
    WorkerHeartbeat.objects.update_or_create(
        worker=worker[:200],
        defaults={
            "last_seen": timezone.now(),
            "isolation": isolation,
            "sandbox_problem": sandbox_problem,
            "pools": pools,
        },
    )


def worker_heartbeats_start() -> None:
    """In a Celery worker process: report alive, sandbox state and ready kernels every few
    seconds from a daemon thread (stops with the process)."""
    from mlrange.labs import runner

    worker = f"{socket.gethostname()}:{os.getpid()}"

    def beat() -> None:
        while True:
            try:
                close_old_connections()
                worker_heartbeat_record(
                    worker=worker,
                    isolation=runner.isolation_mode()["mode"],
                    sandbox_problem=runner.sandbox_problem() or "",
                    pools=runner.pool_stats(),
                )
            except Exception:  # a database hiccup must not end the heartbeats
                logger.warning("worker heartbeat failed", exc_info=True)
            time.sleep(HEARTBEAT_INTERVAL_S)

    threading.Thread(target=beat, name="mlrange-heartbeat", daemon=True).start()


def worker_heartbeats_fresh() -> list[dict[str, Any]]:
    """Workers heard from recently, newest first, as the health endpoint shows them."""
    now = timezone.now()
    rows = WorkerHeartbeat.objects.filter(last_seen__gte=now - HEARTBEAT_FRESH).order_by("-last_seen")
    return [
        {
            "worker": row.worker,
            "seconds_ago": round((now - row.last_seen).total_seconds(), 1),
            "isolation": row.isolation,
            "labs_available": not row.sandbox_problem,
            "problem": row.sandbox_problem or None,
            "ready_kernels": {name: stats.get("warm", 0) for name, stats in row.pools.items()},
        }
        for row in rows
    ]
