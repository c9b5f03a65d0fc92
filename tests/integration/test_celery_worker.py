"""A real Celery worker takes a task off a real broker and writes its answer to the database."""

import os
from pathlib import Path

import pytest
from kombu import Connection

from mlrange.ops.models import WorkerPing
from mlrange.ops.tasks import worker_ping_answer
from tests.integration.conftest import redis_available, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("MLRANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _filesystem_connection(queue_dir: Path) -> Connection:
    for sub in ("in", "processed", "control"):
        (queue_dir / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(queue_dir / "in"),
            "data_folder_out": str(queue_dir / "in"),
            "processed_folder": str(queue_dir / "processed"),
            "control_folder": str(queue_dir / "control"),
        },
    )


def test_worker_answers_ping_over_filesystem_queue(start_worker, tmp_path):
    queue_dir = tmp_path / "queue"
    with _filesystem_connection(queue_dir) as conn:
        ping = WorkerPing.objects.create()
        worker = start_worker(broker_url="filesystem://", queue_dir=queue_dir)
        worker_ping_answer.apply_async(kwargs={"ping_id": ping.pk}, connection=conn)
        answered = wait_for(lambda: WorkerPing.objects.get(pk=ping.pk).answered_at is not None)
    assert answered, worker.output()[-2000:]
    assert WorkerPing.objects.get(pk=ping.pk).answered_by


@pytest.mark.skipif(not redis_available(REDIS_URL), reason=f"no Redis at {REDIS_URL}")
def test_worker_answers_ping_over_redis(start_worker):
    with Connection(REDIS_URL) as conn:
        conn.default_channel.client.flushdb()
        ping = WorkerPing.objects.create()
        worker = start_worker(broker_url=REDIS_URL)
        worker_ping_answer.apply_async(kwargs={"ping_id": ping.pk}, connection=conn)
        answered = wait_for(lambda: WorkerPing.objects.get(pk=ping.pk).answered_at is not None)
    assert answered, worker.output()[-2000:]


def test_answering_twice_changes_nothing(db):
    from mlrange.ops.services import worker_ping_answer_record

    ping = WorkerPing.objects.create()
    assert worker_ping_answer_record(ping_id=ping.pk, hostname="a") is True
    first = WorkerPing.objects.get(pk=ping.pk).answered_at
    assert worker_ping_answer_record(ping_id=ping.pk, hostname="b") is False
    again = WorkerPing.objects.get(pk=ping.pk)
    assert (again.answered_at, again.answered_by) == (first, "a")
