"""Start real Celery workers against the test database and a chosen broker."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from kombu import Connection
from rest_framework.test import APIClient

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database this test run uses, for a worker process to share it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def redis_available(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    workers: list[WorkerProcess] = []

    def start(
        *,
        broker_url: str,
        queue_dir: Path | None = None,
        queues: str = "default,labs",
        extra_env: dict[str, str] | None = None,
        concurrency: int = 1,
    ) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            DATABASE_URL=test_database_url(),
            CELERY_BROKER_URL=broker_url,
            DJANGO_SETTINGS_MODULE="mlrange.settings",
            PYTHONPATH=f"{ROOT / 'platform'}:{ROOT}",
            PYTHONUNBUFFERED="1",
        )
        if queue_dir is not None:
            env["MLRANGE_QUEUE_DIR"] = str(queue_dir)
        env.setdefault("MLRANGE_WARM_POOL", "0")
        env.setdefault("DEBUG", "1")  # a local worker, as make sets it (settings default to off)
        env.update(extra_env or {})
        log = tmp_path / f"worker-{len(workers)}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mlrange",
                "worker",
                "-Q",
                queues,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test{len(workers)}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = WorkerProcess(proc, log)
        workers.append(worker)
        deadline = time.monotonic() + 60
        while "ready." not in worker.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                worker.kill()
                pytest.fail(f"Celery worker did not start:\n{worker.output()[-3000:]}")
            time.sleep(0.1)
        return worker

    yield start
    for worker in workers:
        worker.kill(signal.SIGKILL)  # the process group: worker, its children and their sandboxes


def wait_for(predicate: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# Lab fixtures shared by the lab pipeline, fault and topology tests ------------------------

LAB = "adversarial-examples"


@pytest.fixture(scope="module")
def lab_assets():
    from mlrange.labs import assets, registry
    from mlrange.labs.runner import sandbox_problem

    problem = sandbox_problem()
    if problem:
        if os.environ.get("MLRANGE_REQUIRE_SANDBOX") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    assets.build_lab_assets(registry.get_lab(LAB))


@pytest.fixture
def loaded(lab_assets):
    call_command("load_curriculum", verbosity=0)


@pytest.fixture
def client_for():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(UserFactory.create(username=username))
        return client

    return make


def purge_broker() -> None:
    with Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ) as conn:
        for queue in ("labs", "default"):
            # A queue that does not exist yet has nothing to purge.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


@pytest.fixture
def lab_worker(start_worker):
    """A worker on the configured broker (Redis in CI, the filesystem queue here), warm pool of 1."""
    purge_broker()

    def start(preload: str = "import numpy, torch", **extra: str):
        return start_worker(
            broker_url=settings.CELERY_BROKER_URL,
            queue_dir=settings.QUEUE_DIR,
            extra_env={
                "MLRANGE_WARM_POOL": "1",
                "MLRANGE_POOL_SIZE": "1",
                "MLRANGE_PRELOAD": preload,
                **extra,
            },
        )

    return start
