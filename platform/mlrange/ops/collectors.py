"""Metrics computed when Prometheus scrapes the web: what the database and the broker know.

Queue depth comes from indexed counts of submission rows (the database is the truth) and, as a
cross-check, from the broker's own queues. Ready kernels, kernel start times and worker
liveness come from the heartbeats each worker process writes every few seconds
(``WorkerHeartbeat``), so no worker needs to be reachable from the scraper and no value needs
multiprocess state. Each scrape costs a handful of small queries.
"""

import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlrange.ops.models import WorkerHeartbeat
from mlrange.ops.services import HEARTBEAT_FRESH

logger = logging.getLogger(__name__)

# A worker whose heartbeat stopped stays visible (its age growing) this long, then its series
# end: worker ids are host:pid, so every restart is a new one.
HEARTBEAT_HORIZON = timedelta(minutes=10)
# kombu's Redis transport keeps a queue's prioritised messages in sibling lists.
_REDIS_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class DatabaseCollector(Collector):
    """Queue depth, broker queue lengths and worker heartbeats, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        database_up = GaugeMetricFamily(
            "mlrange_database_up", "Whether the scrape could read the database (1) or not (0)."
        )
        try:
            families = [*_submission_families(), *_heartbeat_families()]
        except DatabaseError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            database_up.add_metric([], 0)
            yield database_up
        else:
            database_up.add_metric([], 1)
            yield database_up
            yield from families
        yield from _broker_families()


def _submission_families() -> list[Metric]:
    from mlrange.labs.models import Submission  # ops reads labs; imported late, as elsewhere in ops

    rows = (
        Submission.objects.filter(status__in=(Submission.Status.QUEUED, Submission.Status.RUNNING))
        .order_by()
        .values("status")
        .annotate(count=Count("pk"), oldest=Min("created_at"))
    )
    counts: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    for row in rows:
        counts[row["status"]] = int(row["count"])
        oldest[row["status"]] = row["oldest"]
    queued_family = GaugeMetricFamily("mlrange_submissions_queued", "Submissions waiting for a worker.")
    queued_family.add_metric([], counts.get(Submission.Status.QUEUED, 0))
    running_family = GaugeMetricFamily("mlrange_submissions_running", "Submissions a worker is running.")
    running_family.add_metric([], counts.get(Submission.Status.RUNNING, 0))
    oldest_family = GaugeMetricFamily(
        "mlrange_submission_oldest_queued_age_seconds",
        "How long the oldest queued submission has waited (0 when none waits).",
    )
    oldest_queued = oldest.get(Submission.Status.QUEUED)
    waited = (timezone.now() - oldest_queued).total_seconds() if oldest_queued else 0.0
    oldest_family.add_metric([], max(waited, 0.0))
    return [queued_family, running_family, oldest_family]


def _heartbeat_families() -> list[Metric]:
    now = timezone.now()
    rows = list(
        WorkerHeartbeat.objects.filter(last_seen__gte=now - HEARTBEAT_HORIZON).values_list(
            "worker", "last_seen", "sandbox_problem", "pools"
        )
    )
    age = GaugeMetricFamily(
        "mlrange_worker_heartbeat_age_seconds",
        "Seconds since a worker process last wrote its heartbeat (every 10 s while alive).",
        labels=["worker"],
    )
    labs_available = GaugeMetricFamily(
        "mlrange_worker_labs_available",
        "Whether labs can run on a worker process that is alive (1) or not (0).",
        labels=["worker"],
    )
    per_pool: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
        "warm": GaugeMetricFamily(
            "mlrange_kernels_ready",
            "Warm sandboxed kernels ready to take a submission.",
            labels=["worker", "profile"],
        ),
        "starting": GaugeMetricFamily(
            "mlrange_kernels_starting", "Kernels being started.", labels=["worker", "profile"]
        ),
        "target": GaugeMetricFamily(
            "mlrange_kernels_target",
            "How many ready kernels the pool is growing or shrinking towards.",
            labels=["worker", "profile"],
        ),
        "median_start_s": GaugeMetricFamily(
            "mlrange_kernel_start_median_seconds",
            "Median time to start a sandboxed kernel, over the pool's recent starts.",
            labels=["worker", "profile"],
        ),
        "started": CounterMetricFamily(
            "mlrange_kernel_starts", "Kernels started by the worker process.", labels=["worker", "profile"]
        ),
        "failed_starts": CounterMetricFamily(
            "mlrange_kernel_start_failures",
            "Kernel starts that failed in the worker process.",
            labels=["worker", "profile"],
        ),
        "served": CounterMetricFamily(
            "mlrange_kernels_served", "Kernels handed to a submission.", labels=["worker", "profile"]
        ),
    }
    for worker, last_seen, sandbox_problem, pools in rows:
        seconds = max((now - last_seen).total_seconds(), 0.0)
        age.add_metric([worker], seconds)
        if seconds > HEARTBEAT_FRESH.total_seconds():
            continue  # a silent worker's kernels are not ready for anyone
        labs_available.add_metric([worker], 0 if sandbox_problem else 1)
        for profile, stats in (pools or {}).items():
            for key, family in per_pool.items():
                value = stats.get(key) if isinstance(stats, dict) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    family.add_metric([worker, profile], value)
    return [age, labs_available, *per_pool.values()]


def _broker_families() -> list[Metric]:
    """Messages waiting in each Celery queue, as the broker holds them (Redis lists, or files of
    the embedded filesystem queue). Another broker: nothing."""
    queues = sorted(
        {settings.CELERY_TASK_DEFAULT_QUEUE}
        | {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    )
    url: str = settings.CELERY_BROKER_URL
    family = GaugeMetricFamily(
        "mlrange_broker_queue_messages", "Messages waiting in a Celery queue of the broker.", labels=["queue"]
    )
    if url.startswith(("redis://", "rediss://", "unix://")):
        reachable = GaugeMetricFamily(
            "mlrange_broker_up", "Whether the scrape could read the broker (1) or not (0)."
        )
        try:
            lengths = _redis_queue_lengths(url, queues)
        except Exception:  # any Redis or socket error: the scrape must still answer
            logger.warning("metrics: the Redis broker could not be read", exc_info=True)
            reachable.add_metric([], 0)
            return [reachable]
        reachable.add_metric([], 1)
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        return [reachable, family]
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
        if folder:
            for queue, length in _folder_queue_lengths(str(folder), queues).items():
                family.add_metric([queue], length)
            return [family]
    return []


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _redis_queue_lengths(url: str, queues: list[str]) -> dict[str, int]:
    pipe = _redis_client(url).pipeline(transaction=False)
    for queue in queues:
        for suffix in _REDIS_PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = pipe.execute()
    step = len(_REDIS_PRIORITY_SUFFIXES)
    return {queue: sum(lengths[i * step : (i + 1) * step]) for i, queue in enumerate(queues)}


def _folder_queue_lengths(folder: str, queues: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(queues, 0)
    suffixes = {f".{queue}.msg": queue for queue in queues}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                queue = suffixes.get("." + entry.name.split(".", 1)[-1])
                if queue is not None:
                    counts[queue] += 1
    except OSError:
        return {}
    return counts
