"""Faults survived, for real, during a stream of submissions: the worker is killed with SIGKILL,
every PostgreSQL connection is cut, and the Redis broker drops its clients and everything it
held (what a restart of a Redis that keeps nothing on disk does). Every submission reaches one
final state; none is lost, none is run more than twice."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone

from mlrange.labs import services
from mlrange.labs.models import Submission
from tests.integration.conftest import wait_for
from tests.integration.test_lab_pipeline import _submit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

STREAM = 12


@pytest.fixture
def production_shape():
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        if os.environ.get("CI"):
            pytest.fail("the fault tests need PostgreSQL and a Redis broker in CI")
        pytest.skip("needs PostgreSQL (DATABASE_URL) and a Redis broker (CELERY_BROKER_URL)")


def _cut_database_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _drop_broker_state() -> None:
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.client_kill_filter(_type="normal", skipme=True)
    broker.flushdb()


def test_a_stream_survives_a_killed_worker_cut_connections_and_a_flushed_broker(
    production_shape, loaded, lab_worker, client_for, settings
):
    settings.LABS_MAX_IN_FLIGHT = 100  # one learner keeps submitting while the worker is down
    worker = lab_worker(preload="import numpy")
    client = client_for("ada")
    ids: list[str] = []

    def stream() -> None:
        try:
            send_all()
        finally:
            connection.close()  # this thread's own connection

    def send_all() -> None:
        for index in range(STREAM):
            code = f"import time\ntime.sleep(0.3)\nprint({index})"
            try:
                ids.append(_submit(client, code=code, mode="run"))
            except OperationalError:
                # The request that met the cut connection failed (nothing was recorded, and the
                # learner was told); the next one reconnects, as the next web request would.
                connection.close()
                ids.append(_submit(client, code=code, mode="run"))
            time.sleep(0.5)

    sender = threading.Thread(target=stream)
    sender.start()
    time.sleep(1.5)
    worker.kill(signal.SIGKILL)  # mid-stream, probably mid-run
    lab_worker(preload="import numpy")
    time.sleep(1.0)
    assert _cut_database_connections() >= 1  # the worker's connections, at least
    time.sleep(1.0)
    _drop_broker_state()
    sender.join()

    def all_final() -> bool:
        return (
            Submission.objects.filter(pk__in=ids).exclude(status__in=Submission.FINAL_STATUSES).count() == 0
        )

    if not wait_for(all_final, timeout=30, interval=0.2):
        # What beat's sweeper does every 30 s: re-ring what the broker lost, re-queue what the
        # killed worker left running (its deadline is 10 minutes; we do not wait for it).
        services.submissions_sweep(
            now=timezone.now() + timedelta(seconds=settings.LABS_SUBMISSION_DEADLINE + 1),
            queued_grace_seconds=0,
        )
    assert wait_for(all_final, timeout=120, interval=0.2), list(
        Submission.objects.filter(pk__in=ids).values_list("status", "deliveries", "message")
    )

    rows = list(Submission.objects.filter(pk__in=ids).values("status", "deliveries", "message", "outputs"))
    assert len(rows) == STREAM
    assert all(row["deliveries"] <= services.MAX_DELIVERIES for row in rows)
    completed = [row for row in rows if row["status"] == Submission.Status.COMPLETED]
    for row in rows:
        if row["status"] != Submission.Status.COMPLETED:
            assert row["message"], row  # a failure the learner can read, never a silent one
    # Each completed run printed exactly once: a second delivery never doubled a result.
    for row in completed:
        printed = [o["text"] for o in row["outputs"] if o.get("type") == "stream"]
        assert len(printed) == 1, row
    assert len(completed) >= STREAM - 2, rows
