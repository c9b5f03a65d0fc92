"""Two kernels forked from one template: nothing of one is visible to the other, and the
template's memory holds nothing of any learner. Each attack runs for real in kernel A or B.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mlrange.sandbox import SandboxConfig
from mlrange.sandbox.kernel import SandboxedKernel
from mlrange.sandbox.template import KernelTemplate
from tests.sandbox.support import sandbox_config, short_run_dir

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def config() -> Iterator[SandboxConfig]:
    run_dir = short_run_dir()
    yield sandbox_config(run_dir, preload="import numpy, torch", kernel_template=True, wall_timeout_s=30.0)
    shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def template(config: SandboxConfig) -> Iterator[KernelTemplate]:
    started = KernelTemplate(config)
    started.start(timeout=120)
    yield started
    started.stop()


@pytest.fixture
def siblings(
    config: SandboxConfig, template: KernelTemplate
) -> Iterator[tuple[SandboxedKernel, SandboxedKernel]]:
    first = SandboxedKernel.start(config, timeout=60, template=template)
    second = SandboxedKernel.start(config, timeout=60, template=template)
    yield first, second
    first.destroy()
    second.destroy()


def run_json(kernel: SandboxedKernel, code: str) -> Any:
    result = kernel.run([code], artifacts=[], timeout=20)
    assert result.status == "ok", result.outputs
    text = "".join(o["text"] for o in result.outputs if o["type"] == "stream" and o["name"] == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def test_files_environment_and_module_state_stay_in_one_kernel(siblings) -> None:
    first, second = siblings
    run_json(
        first,
        """
import json, os, numpy, torch
for folder in ("/tmp", "/home/learner", "/dev/shm"):
    open(os.path.join(folder, "planted"), "w").write("from A")
os.environ["PLANTED"] = "from A"
numpy.pi = 3.0
torch.planted = True
print(json.dumps(True))
""",
    )

    seen = run_json(
        second,
        """
import json, os, numpy, torch
print(json.dumps({
    "files": [f for d in ("/tmp", "/home/learner", "/dev/shm") for f in os.listdir(d) if f == "planted"],
    "env": os.environ.get("PLANTED"),
    "pi": numpy.pi,
    "torch": hasattr(torch, "planted"),
}))
""",
    )

    assert seen == {"files": [], "env": None, "pi": pytest.approx(3.141592653589793), "torch": False}


def test_processes_signals_ipc_and_sockets_of_a_sibling_are_unreachable(siblings) -> None:
    first, second = siblings
    run_json(
        first,
        """
import json, mmap, os, socket
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind("\\0mlrange-sibling")
listener.listen(1)
fd = os.open("/dev/shm/segment", os.O_CREAT | os.O_RDWR)
os.ftruncate(fd, 4096)
print(json.dumps(os.getpid()))
""",
    )

    seen = run_json(
        second,
        """
import errno, json, os, signal, socket
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
foreign = []  # a pid that answers a signal but is not one of this kernel's own processes/threads
for pid in range(1, 4000):
    try:
        os.kill(pid, 0)
    except OSError:
        continue
    if not os.path.exists(f"/proc/{pid}/status"):
        foreign.append(pid)
for pid in pids:  # SIGKILL every other process this kernel can see: a shared pid space would kill A
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
try:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect("\\0mlrange-sibling")
    reached = True
except OSError:
    reached = False
sysv = open("/proc/sysvipc/shm").read().splitlines()[1:]
print(json.dumps({"pids": len(pids), "foreign": foreign, "socket": reached, "sysv": sysv,
                  "shm": os.listdir("/dev/shm")}))
""",
    )

    assert seen["foreign"] == []
    assert seen["socket"] is False
    assert seen["sysv"] == []
    assert seen["shm"] == []
    assert seen["pids"] < 10  # its own kernel and helpers only
    assert run_json(first, "import json; print(json.dumps('alive'))") == "alive"


def test_random_generators_are_reseeded_in_every_kernel(siblings) -> None:
    code = """
import json, random, numpy, torch
print(json.dumps([random.random(), float(numpy.random.rand()), float(torch.rand(1))]))
"""
    first, second = siblings

    assert run_json(first, code) != run_json(second, code)


def test_the_template_memory_holds_nothing_of_a_learner(siblings, template: KernelTemplate) -> None:
    marker = f"learner-marker-{uuid.uuid4().hex}"
    first, _ = siblings
    run_json(first, f"import json; kept = {marker!r} * 1000; print(json.dumps(len(kept)))")

    assert template._cgroup is not None
    pids = template._cgroup.pids()
    assert pids
    needle = marker.encode()
    for pid in pids:
        assert needle not in _readable_memory(pid), f"template process {pid} holds the learner's marker"


def _readable_memory(pid: int) -> bytes:
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            match = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
            if not match or "[vvar]" in line or "[vsyscall]" in line:
                continue
            start, end = int(match.group(1), 16), int(match.group(2), 16)
            if end - start > 512 * 2**20:
                continue
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:
                continue
    return b"".join(chunks)
