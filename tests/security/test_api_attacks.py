"""Attacks a learner can try through the public API, run for real by a real worker in real
sandboxes. Each must fail, and the worker must keep serving afterwards."""

import json
import os
import socket

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from mlrange.labs.models import Submission
from tests.factories import UserFactory
from tests.integration.conftest import start_worker, wait_for  # noqa: F401 -- start_worker is a fixture

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LAB = "adversarial-examples"
FAKE_SECRET = "mlrange-test-secret-9f1c2e"  # noqa: S105 -- a canary the sandbox must hide, not a credential

PROBES = """
import json, os, socket, glob

def attempt(fn):
    try:
        result = fn()
        return "ALLOWED" if result is not False else "blocked"
    except Exception as exc:
        return f"blocked ({type(exc).__name__})"

def read(path):
    return lambda: open(path, "rb").read(1)

def connect(port, host="127.0.0.1"):
    def go():
        with socket.create_connection((host, port), timeout=2):
            return True
    return go

def environ_has_secret():
    found = FAKE in json.dumps(dict(os.environ))
    for path in glob.glob("/proc/*/environ"):
        try:
            found = found or FAKE.encode() in open(path, "rb").read()
        except OSError:
            pass
    return True if found else False

FAKE = "__FAKE__"
probes = {
    "read /etc/shadow": attempt(read("/etc/shadow")),
    "list /root": attempt(lambda: os.listdir("/root")),
    "read the project checkout": attempt(read("__ROOT__/pyproject.toml")),
    "read the database": attempt(read("__DB__")),
    "read the secret key": attempt(read("__VAR__/secret_key")),
    "read .env": attempt(read("__ROOT__/.env")),
    "PostgreSQL on 127.0.0.1": attempt(connect(5432)),
    "Redis on 127.0.0.1": attempt(connect(6379)),
    "the web server": attempt(connect(__WEB_PORT__)),
    "the host's address": attempt(connect(5432, "__HOST_IP__")),
    "PostgreSQL's Unix socket": attempt(lambda: socket.socket(socket.AF_UNIX).connect("/var/run/postgresql/.s.PGSQL.5432")),
    "the worker's environment": attempt(environ_has_secret),
    "host processes in /proc": attempt(lambda: len([p for p in os.listdir("/proc") if p.isdigit()]) > 20 or False),
    "write outside the work dir": attempt(lambda: open("/usr/planted", "w").write("x")),
}
print(json.dumps(probes))
"""

BOMBS = """
import json, os, subprocess
outcome = {}
try:
    children = []
    for _ in range(500):
        children.append(os.fork())
        if children[-1] == 0:
            import time; time.sleep(30); os._exit(0)
    outcome["fork bomb"] = "ALLOWED"
except OSError:
    outcome["fork bomb"] = "blocked"
try:
    hog = bytearray(8 * 1024**3)
    outcome["memory bomb"] = "ALLOWED"
except MemoryError:
    outcome["memory bomb"] = "blocked"
try:
    with open("fill.bin", "wb") as f:
        for _ in range(4096):
            f.write(b"\\0" * 2**20)
    outcome["disk fill"] = "ALLOWED"
except OSError:
    outcome["disk fill"] = "blocked"
print(json.dumps(outcome))
"""


def _host_ip() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


@pytest.fixture
def worker(db, start_worker):  # noqa: F811
    from mlrange.labs import assets, registry
    from mlrange.labs.runner import sandbox_problem

    problem = sandbox_problem()
    if problem:
        if os.environ.get("MLRANGE_REQUIRE_SANDBOX") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    assets.build_lab_assets(registry.get_lab(LAB))
    call_command("load_curriculum", verbosity=0)
    return start_worker(
        broker_url=settings.CELERY_BROKER_URL,
        queue_dir=settings.QUEUE_DIR,
        extra_env={
            "MLRANGE_WARM_POOL": "1",
            "MLRANGE_POOL_SIZE": "1",
            "MLRANGE_PRELOAD": "import numpy",
            "MLRANGE_EXEC_TIMEOUT": "10",
            "MLRANGE_FAKE_SECRET": FAKE_SECRET,
        },
    )


def _run(client: APIClient, code: str, mode: str = "run") -> Submission:
    response = client.post(f"/api/v1/labs/{LAB}/submissions/", {"mode": mode, "code": code}, format="json")
    assert response.status_code == 202, response.content
    submission_id = response.json()["id"]
    assert wait_for(lambda: Submission.objects.get(pk=submission_id).is_final, timeout=90, interval=0.1)
    return Submission.objects.get(pk=submission_id)


def _printed(submission: Submission) -> dict[str, str]:
    text = "".join(
        o.get("text", "")
        for o in submission.outputs
        if o.get("type") == "stream" and o.get("name") == "stdout"
    )
    return json.loads(text.strip().splitlines()[-1])


def test_attacks_through_the_api_fail_and_the_worker_keeps_serving(worker, live_server):
    mallory = APIClient()
    mallory.force_authenticate(UserFactory.create(username="mallory"))
    victim = APIClient()
    victim.force_authenticate(UserFactory.create(username="victim"))
    root = str(settings.BASE_DIR)
    code = (
        PROBES.replace("__FAKE__", FAKE_SECRET)
        .replace("__ROOT__", root)
        .replace("__DB__", str(settings.DATABASES["default"].get("NAME") or ""))
        .replace("__VAR__", str(settings.VAR_DIR))
        .replace("__WEB_PORT__", str(live_server.url.rsplit(":", 1)[1]))
        .replace("__HOST_IP__", _host_ip())
    )
    probes = _printed(_run(mallory, code))
    assert all(not outcome.startswith("ALLOWED") for outcome in probes.values()), json.dumps(probes, indent=1)

    bombs = _run(mallory, BOMBS)
    assert bombs.status == Submission.Status.COMPLETED, bombs.message
    assert _printed(bombs) == {"fork bomb": "blocked", "memory bomb": "blocked", "disk fill": "blocked"}

    loop = _run(mallory, "while True:\n    pass")
    assert loop.status == Submission.Status.TIMED_OUT
    stubborn = _run(
        mallory,
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)",
    )
    assert stubborn.status == Submission.Status.TIMED_OUT
    flood = _run(mallory, "while True:\n    print('x' * 10000)")
    assert flood.status == Submission.Status.ERROR
    assert "output limit" in flood.message

    # Another learner's work: neither their files in a sandbox nor their submission via the API.
    secret_run = _run(
        victim,
        "open('notes.txt', 'w').write('victim-private')\nopen('/tmp/notes.txt', 'w').write('victim-private')\nprint('saved')",
    )
    look = _run(
        mallory,
        "import os, glob\nprint(sorted(glob.glob('/tmp/*') + glob.glob('*') + glob.glob('/home/*/*')))",
    )
    assert "notes.txt" not in "".join(o.get("text", "") for o in look.outputs)
    assert mallory.get(f"/api/v1/submissions/{secret_run.pk}/").status_code == 404

    # A graded submission whose artifacts are links to host files is refused, not followed.
    links = _run(
        mallory,
        "import os\nos.symlink('/etc/passwd', 'adv_untargeted.npy')\nos.symlink('/proc/1/environ', 'adv_targeted.npy')",
        mode="grade",
    )
    assert links.status == Submission.Status.FAILED
    assert links.score == 0
    assert "root:" not in json.dumps(links.checks) + links.message

    assert _run(victim, "print('still serving')").status == Submission.Status.COMPLETED
