"""scripts/run.sh (`make run`) restarts a dead worker, keeps serving, and stops everything on SIGTERM."""

import os
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, wait_for
from tests.integration.conftest import test_database_url as database_url

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- a local http URL
            return bool(response.status == 200)
    except OSError:
        return False


def _live_processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process that is not a zombie."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid, _pgrp, session = stat.rpartition(")")[2].split()[:4]
        if state != "Z":
            processes[int(entry.name)] = (int(ppid), int(session))
    return processes


def _descendants(root: int) -> set[int]:
    processes = _live_processes()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in processes.items() if ppid in frontier} - found
        found |= frontier
    return found


def _in_session(session: int) -> set[int]:
    return {pid for pid, (_, sid) in _live_processes().items() if sid == session}


class RunScript:
    """scripts/run.sh running in the background, its output in a file."""

    def __init__(self, tmp_path: Path) -> None:
        port = _free_port()
        self.health = f"http://127.0.0.1:{port}/api/v1/health/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            HOST="127.0.0.1",
            PORT=str(port),
            MLRANGE_VAR_DIR=str(tmp_path / "var"),
            MLRANGE_QUEUE_DIR=str(tmp_path / "var" / "queue"),
            CELERY_BROKER_URL="filesystem://",
            DATABASE_URL=database_url(),
            SECRET_KEY="run-script-test-" + "k" * 40,
            MLRANGE_WARM_POOL="0",
            WORKER_CONCURRENCY="1",
            PYTHONUNBUFFERED="1",
        )
        self.log_path = tmp_path / "run.log"
        self.proc = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.seen: set[int] = set()  # every process it started, for the checks and the clean-up

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self) -> str:
        return self.log()[-4000:]

    def started(self, name: str) -> list[int]:
        return [int(pid) for pid in re.findall(rf"{name} started \(pid (\d+)\)", self.log())]

    def wait_until_serving(self, *, workers_ready: int = 1) -> None:
        def serving() -> bool:
            return self.log().count(" ready.") >= workers_ready and _answers(self.health)

        assert wait_for(serving, timeout=120, interval=0.2), self.tail()
        self.seen |= _descendants(self.proc.pid)

    def leftovers(self) -> set[int]:
        return self.seen & set(_live_processes())


@pytest.fixture
def run_script(tmp_path: Path) -> Iterator[RunScript]:
    run = RunScript(tmp_path)
    yield run
    if run.proc.poll() is None:
        run.proc.send_signal(signal.SIGTERM)
        try:
            run.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.proc.kill()
    for pid in run.leftovers():
        os.kill(pid, signal.SIGKILL)


def test_run_script_restarts_a_killed_worker_and_stops_everything_on_sigterm(run_script):
    run_script.wait_until_serving()
    assert "A worker or beat that stops is restarted" in run_script.log()
    [first] = run_script.started("worker")

    os.kill(first, signal.SIGKILL)
    run_script.wait_until_serving(workers_ready=2)
    assert "worker exited with status 137; restarting in 2 s" in run_script.log()
    [_, second] = run_script.started("worker")
    assert os.path.exists(f"/proc/{second}")
    assert _in_session(first) == set()  # the dead worker's pool processes went with it
    assert run_script.proc.poll() is None

    run_script.proc.send_signal(signal.SIGTERM)
    assert run_script.proc.wait(timeout=60) == 143, run_script.tail()
    assert run_script.leftovers() == set(), run_script.tail()
    assert _in_session(second) == set()


def test_run_script_ends_when_the_web_server_dies(run_script):
    run_script.wait_until_serving()
    web = next(pid for pid in run_script.seen if "runserver" in Path(f"/proc/{pid}/cmdline").read_text())

    os.kill(web, signal.SIGKILL)
    assert run_script.proc.wait(timeout=60) == 137, run_script.tail()
    assert "The web server exited with status 137" in run_script.log()
    assert run_script.leftovers() == set(), run_script.tail()
