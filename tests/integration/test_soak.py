"""Soak, bounded: `make run`'s own script on the embedded default (SQLite file, filesystem
queue) while four learners each run 25 programs and a fifth sends hostile code the whole time.
Every learner's result must be exactly right, nothing lost, the worker never restarted and the
server still up at the end."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.integration.conftest import LAB, ROOT, wait_for
from tests.integration.conftest import test_database_url as database_url
from tests.integration.test_run_script import _answers, _free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.django_db(transaction=True),
]

LEARNERS = 4
RUNS = 25
HOSTILE = [
    # memory: forked children together past the lab's limit
    "import os\nfor _ in range(4):\n    if os.fork() == 0:\n        b = bytearray(900 * 2**20)\n        os._exit(0)\n"
    "import time; time.sleep(3)",
    # the kernel channel: one message of many large frames
    "k = get_ipython().kernel\nk.iopub_socket.send_multipart([b'x' * (7 * 2**20)] * 64)\nimport time; time.sleep(2)",
    # output flood
    "while True:\n    print('x' * 10000)",
    # /dev/shm and disk fill
    "import os\nfor i in range(100):\n    open(f'/dev/shm/f{i}', 'wb').write(b'y' * 2**20)",
    "import os\nfor i in range(600):\n    open(f'/home/learner/f{i}', 'wb').write(b'z' * 2**20)",
    # fork bomb
    "import os\nwhile True:\n    os.fork()",
    # the kernel kills itself
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
]


def _call(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 -- the test's own local server
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def _run(base: str, token: str, code: str) -> dict:
    created = _call(base, token, f"/api/v1/labs/{LAB}/submissions/", {"mode": "run", "code": code})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        body = _call(base, token, f"/api/v1/submissions/{created['id']}/?wait=30")
        if body["is_final"]:
            return body
    raise AssertionError(f"submission {created['id']} never finished")


def test_four_learners_and_a_hostile_one_on_the_embedded_default(lab_assets, tmp_path: Path):
    call_command("load_curriculum", verbosity=0)
    tokens = [Token.objects.create(user=UserFactory.create()).key for _ in range(LEARNERS + 1)]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_BROKER"))}
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        DEBUG="1",
        MLRANGE_VAR_DIR=str(tmp_path / "var"),
        MLRANGE_QUEUE_DIR=str(tmp_path / "var" / "queue"),
        CELERY_BROKER_URL="filesystem://",
        DATABASE_URL=database_url(),
        SECRET_KEY="soak-test-" + "k" * 40,
        WORKER_CONCURRENCY="2",
        MLRANGE_POOL_SIZE="2",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "run.log"
    run = subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def log() -> str:
        return log_path.read_text(errors="replace")[-4000:]

    try:
        assert wait_for(lambda: " ready." in log() and _answers(f"{base}/api/v1/health/"), timeout=180), log()
        results: dict[int, list[tuple[int, dict]]] = {i: [] for i in range(LEARNERS)}
        hostile: list[dict] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def learner(index: int) -> None:
            try:
                for run_number in range(RUNS):
                    value = index * 1000 + run_number
                    results[index].append((value, _run(base, tokens[index], f"print({value} * {value})")))
            except BaseException as exc:  # reported below, with the server's log
                errors.append(exc)

        def attacker() -> None:
            try:
                while True:  # whole rounds: every attack is sent at least once
                    for code in HOSTILE:
                        hostile.append(_run(base, tokens[LEARNERS], code))
                    if done.is_set():
                        return
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=learner, args=(i,)) for i in range(LEARNERS)]
        attack = threading.Thread(target=attacker)
        attack.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        done.set()
        attack.join(timeout=300)

        assert not errors, (errors, log())
        for index in range(LEARNERS):
            assert len(results[index]) == RUNS
            for value, body in results[index]:
                assert body["status"] == "completed", (body["status"], body["message"])
                assert body["outputs"] == [
                    {"type": "stream", "name": "stdout", "text": f"{value * value}\n", "cell": 1}
                ]
        assert len(hostile) >= len(HOSTILE)
        assert all(body["is_final"] and body["message"] for body in hostile)
        assert "worker exited" not in log_path.read_text(errors="replace")  # never crashed, never restarted
        assert _answers(f"{base}/api/v1/health/")
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
