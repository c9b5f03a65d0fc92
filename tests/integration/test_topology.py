"""The production topology: web, worker and beat as separate processes sharing only PostgreSQL
and Redis. Each has its own working folder; the worker has its own lab assets (verified at
start), the web has no sandbox runtime at all and learns from the worker's heartbeats that labs
can run. A graded submission through the web's HTTP API comes back passed."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from mlrange.ops.models import WorkerHeartbeat
from tests.factories import UserFactory
from tests.integration.conftest import ROOT, redis_available, wait_for
from tests.integration.conftest import test_database_url as shared_database_url
from tests.labs_content.harness import labs_in_isolation

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LAB = "adversarial-examples"
REDIS_URL = os.environ.get("MLRANGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def shared_services():
    from django.db import connection

    if connection.vendor != "postgresql" or not redis_available(REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail("the production topology test needs PostgreSQL and Redis in CI")
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis")
    return shared_database_url(), REDIS_URL


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _world_readable_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)  # the sandbox uid reads lab assets from here
    return path


def test_web_worker_and_beat_share_only_the_database_and_redis(shared_services, tmp_path):
    database_url, redis_url = shared_services
    call_command("load_curriculum", verbosity=0)
    token = Token.objects.create(user=UserFactory.create(username="ada")).key
    labs_dir = labs_in_isolation(LAB, _world_readable_dir("mlrl-"))
    worker_assets = _world_readable_dir("mlra-")
    folders = {role: tmp_path / role for role in ("web", "worker", "beat")}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MLRANGE_", "DATABASE"))}
    base_env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="mlrange.settings",
        PYTHONPATH=f"{ROOT / 'platform'}:{ROOT}",
        SECRET_KEY="topology-test-secret-key-not-a-real-one-0123456789",  # noqa: S106 -- a test-only key
        DEBUG="0",  # production settings
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback, as behind a TLS-terminating proxy
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
    )
    env = {
        "worker": {
            **base_env,
            "MLRANGE_VAR_DIR": str(folders["worker"]),
            "MLRANGE_LABS_DIR": str(labs_dir),
            "MLRANGE_ASSETS_DIR": str(worker_assets),
            "MLRANGE_BUILD_ASSETS_ON_START": "1",
            "MLRANGE_POOL_SIZE": "1",
            "MLRANGE_RUNTIME": os.environ.get("MLRANGE_RUNTIME", str(settings.SANDBOX_RUNTIME)),
        },
        "beat": {**base_env, "MLRANGE_VAR_DIR": str(folders["beat"])},
        # The web host has no sandbox runtime: only the workers can say whether labs run.
        "web": {
            **base_env,
            "MLRANGE_VAR_DIR": str(folders["web"]),
            "MLRANGE_RUNTIME": str(tmp_path / "none"),
        },
    }
    # What a worker's start would build; built here first so that the worker only verifies it
    # within the start-up timeout (the build itself is tested with the lab's content).
    from mlrange.labs.assets import build_lab_assets
    from mlrange.labs.registry import discover_labs

    (spec,) = discover_labs(labs_dir)
    build_lab_assets(spec, assets_dir=worker_assets)

    port = _free_port()
    commands = {
        "worker": [sys.executable, "-m", "celery", "-A", "mlrange", "worker", "-Q", "labs,default",
                   "--concurrency", "1", "--without-gossip", "--without-mingle", "-n", "topology@%h"],
        "beat": [sys.executable, "-m", "celery", "-A", "mlrange", "beat",
                 "--schedule", str(folders["beat"] / "schedule")],
        "web": [sys.executable, "-m", "gunicorn", "mlrange.wsgi:application", "-b", f"127.0.0.1:{port}",
                "--worker-class", "gthread", "--threads", "4"],
    }  # fmt: skip
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for role, command in commands.items():
            folders[role].mkdir()
            log = (tmp_path / f"{role}.log").open("wb")
            processes[role] = subprocess.Popen(
                command, cwd=ROOT, env=env[role], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

        def logs() -> str:
            return "\n".join(
                f"--- {role}\n" + (tmp_path / f"{role}.log").read_text(errors="replace")[-2500:]
                for role in commands
            )

        assert wait_for(lambda: WorkerHeartbeat.objects.filter(sandbox_problem="").exists(), timeout=120), (
            logs()
        )
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _answers(f"{base}/api/v1/health/"), timeout=60), logs()
        health = _get(f"{base}/api/v1/health/", token)
        assert health["sandbox"]["labs_available"] is False  # the web's own host cannot run labs...
        assert health["workers"][0]["labs_available"] is True  # ...its worker can

        solution = (labs_dir / LAB / "solutions" / "reference_pgd.py").read_text()
        created = _post(f"{base}/api/v1/labs/{LAB}/submissions/", token, {"mode": "grade", "code": solution})
        result: dict = {}
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not result.get("is_final"):
            result = _get(f"{base}/api/v1/submissions/{created['id']}/?wait=30", token)
        assert result.get("status") == "passed", (result, logs())
        assert not (folders["web"] / "queue").exists()  # nothing but PostgreSQL and Redis shared
        assert (worker_assets / "public" / LAB).is_dir()
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(labs_dir.parent, ignore_errors=True)
        shutil.rmtree(worker_assets, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 -- the test's own local server
        return True
    except OSError:
        return False


def _request(url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 -- the test's own local server
        url, data=data, headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def _get(url: str, token: str) -> dict:
    return _request(url, token)


def _post(url: str, token: str, body: dict) -> dict:
    return _request(url, token, body)
