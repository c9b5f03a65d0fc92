"""Sandbox escape attempts, each made FOR REAL from inside a pooled kernel; each must fail.

The worker (this test process) holds a fake secret in its environment, a TCP listener on all
interfaces, a path Unix socket in a world-writable folder and an abstract Unix socket: each
would be reachable from an unconfined process, so every test here can fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlrange.sandbox import KernelPool, SandboxConfig
from tests.sandbox.support import REPO_ROOT, sandbox_config, short_run_dir

pytestmark = pytest.mark.sandbox

FAKE_SECRET = f"mlrange-fake-secret-{uuid.uuid4().hex}"


@pytest.fixture(scope="module", params=["jailed", "template"])
def config(request: pytest.FixtureRequest) -> Iterator[SandboxConfig]:
    """Every attack against both kinds of kernel: one jail each, and forked from a template."""
    run_dir = short_run_dir()
    yield sandbox_config(run_dir, kernel_template=request.param == "template", tmpfs_mb=96)
    shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pool(config: SandboxConfig) -> Iterator[KernelPool]:
    os.environ["MLRANGE_FAKE_SECRET"] = FAKE_SECRET
    kernel_pool = KernelPool(config, size=2, acquire_timeout=60)
    kernel_pool.start()
    try:
        assert kernel_pool.wait_ready(count=1, timeout=60), kernel_pool.stats()
        yield kernel_pool
        assert kernel_pool.execute(["print(1+1)"]).outputs[0]["text"] == "2\n"
    finally:
        kernel_pool.shutdown()
        os.environ.pop("MLRANGE_FAKE_SECRET", None)


@pytest.fixture(scope="module")
def tcp_listener() -> Iterator[int]:
    server = socket.create_server(("0.0.0.0", 0))  # noqa: S104 -- the target of the attack
    yield server.getsockname()[1]
    server.close()


def probe(pool: KernelPool, code: str, **kwargs: Any) -> Any:
    """Run ``code`` (which prints one JSON value last) in a fresh kernel; return that value."""
    result = pool.execute([code], **kwargs)
    assert result.status == "ok", result.outputs
    text = "".join(o["text"] for o in result.outputs if o["type"] == "stream" and o["name"] == "stdout")
    return json.loads(text.strip().splitlines()[-1])


ATTEMPT = """
import json, os
def attempt(action):
    try:
        action()
        return "succeeded"
    except Exception as exc:
        return type(exc).__name__
"""


def test_host_files_are_invisible(pool: KernelPool) -> None:
    targets = [
        "/etc/shadow",
        "/root",
        str(REPO_ROOT),
        str(REPO_ROOT / "pyproject.toml"),
        str(REPO_ROOT / "var" / "mlrange.sqlite3"),
        str(REPO_ROOT / "var" / "secret_key"),
        str(REPO_ROOT / ".env"),
        "/proc/1/root/etc/shadow",
    ]
    assert os.stat(REPO_ROOT / "pyproject.toml").st_mode & 0o004, "needs a world-readable target"
    code = ATTEMPT + (
        f"targets = {targets!r}\n"
        "def read(path):\n"
        "    return os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
        "print(json.dumps({t: attempt(lambda t=t: read(t)) for t in targets}))"
    )

    outcomes = probe(pool, code)

    assert "succeeded" not in outcomes.values(), outcomes
    listing = probe(pool, "import json, os; print(json.dumps(sorted(os.listdir('/'))))")
    assert set(listing) <= {
        "bin",
        "dev",
        "etc",
        "home",
        "lib",
        "lib64",
        "opt",
        "proc",
        "run",  # /run/kernel: the kernel's private 1 MiB tmpfs for its sockets
        "lab-services",  # services' sockets (read-only; a template makes it for every kernel)
        "sbin",
        "tmp",
        "usr",
    }
    assert probe(pool, "import json, os; print(json.dumps(os.listdir('/home')))") == ["learner"]


def test_kernels_run_as_an_unprivileged_host_uid_without_capabilities(
    pool: KernelPool, config: SandboxConfig
) -> None:
    assert pool.wait_ready(count=1, timeout=60)
    kernels = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            status = (entry / "status").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        jailed = "ipykernel_launcher" in cmdline and str(config.run_dir) in cmdline
        forked = comm == "mlrange-kernel"  # a kernel forked from a template keeps its cmdline
        if jailed or forked:
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            kernels.append((fields["Uid"].split(), fields["CapEff"].strip(), fields["CapPrm"].strip()))

    assert kernels, "no warm kernel found on the host"
    expected_uid = str(config.sandbox_uid) if os.geteuid() == 0 else str(os.geteuid())
    for uids, effective, permitted in kernels:
        assert set(uids) == {expected_uid}
        assert int(effective, 16) == 0
        assert int(permitted, 16) == 0


def test_writes_outside_work_dir_and_tmp_fail(pool: KernelPool, config: SandboxConfig) -> None:
    targets = ["/x", "/usr/x", "/etc/passwd", f"{config.runtime}/x", "/opt/x", "/proc/sys/kernel/x"]
    code = ATTEMPT + (
        f"targets = {targets!r}\n"
        "outcomes = {t: attempt(lambda t=t: open(t, 'a').write('x')) for t in targets}\n"
        "outcomes['work'] = attempt(lambda: open('w.txt', 'w').write('x'))\n"
        "outcomes['tmp'] = attempt(lambda: open('/tmp/w.txt', 'w').write('x'))\n"
        f"outcomes['run_dir'] = attempt(lambda: open({str(config.run_dir / 'x')!r}, 'w'))\n"
        "print(json.dumps(outcomes))"
    )

    outcomes = probe(pool, code)

    assert outcomes.pop("work") == "succeeded"
    assert outcomes.pop("tmp") == "succeeded"
    outcomes.pop("run_dir")  # inside, that path is only a mount point in the private /tmp
    assert "succeeded" not in outcomes.values(), outcomes
    assert not (config.run_dir / "x").exists()


def test_tcp_to_host_services_fails(pool: KernelPool, tcp_listener: int) -> None:
    host_ips = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    targets = [("127.0.0.1", port) for port in (5432, 6379, 8000, tcp_listener)]
    targets += [(ip, tcp_listener) for ip in host_ips]
    with socket.create_connection(("127.0.0.1", tcp_listener), timeout=2):
        pass  # reachable from outside the sandbox
    code = ATTEMPT + (
        "import socket\n"
        f"targets = {targets!r}\n"
        "print(json.dumps({f'{h}:{p}': attempt(lambda h=h, p=p: "
        "socket.create_connection((h, p), timeout=1).close()) for h, p in targets}))"
    )

    outcomes = probe(pool, code)

    assert "succeeded" not in outcomes.values(), outcomes


def test_host_unix_sockets_are_unreachable(pool: KernelPool, run_dir_socket: tuple[str, str]) -> None:
    path_socket, abstract_name = run_dir_socket
    targets = [path_socket, "/var/run/postgresql/.s.PGSQL.5432", "/run/docker.sock"]
    code = ATTEMPT + (
        "import socket\n"
        "def connect(address):\n"
        "    client = socket.socket(socket.AF_UNIX)\n"
        "    client.settimeout(1)\n"
        "    client.connect(address)\n"
        f"targets = {targets!r}\n"
        "outcomes = {t: attempt(lambda t=t: connect(t)) for t in targets}\n"
        f"outcomes['abstract'] = attempt(lambda: connect({abstract_name!r}))\n"
        "print(json.dumps(outcomes))"
    )

    outcomes = probe(pool, code)

    assert "succeeded" not in outcomes.values(), outcomes


@pytest.fixture
def run_dir_socket() -> Iterator[tuple[str, str]]:
    folder = Path("/tmp") / f"mlrange-sock-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    path_server = socket.socket(socket.AF_UNIX)
    path_server.bind(str(folder / "s"))
    os.chmod(folder / "s", 0o777)  # noqa: S103 -- reachable by anyone: the attack's target
    path_server.listen()
    abstract_name = f"\0mlrange-{uuid.uuid4().hex}"
    abstract_server = socket.socket(socket.AF_UNIX)
    abstract_server.bind(abstract_name)
    abstract_server.listen()
    yield str(folder / "s"), abstract_name
    path_server.close()
    abstract_server.close()
    shutil.rmtree(folder, ignore_errors=True)


def test_worker_environment_is_not_readable(pool: KernelPool) -> None:
    assert os.environ["MLRANGE_FAKE_SECRET"] == FAKE_SECRET
    code = (
        "import glob, json, os\n"
        "blobs = [str(dict(os.environ))]\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n"
        "        blobs.append(open(path, 'rb').read().decode(errors='replace'))\n"
        "    except OSError:\n"
        "        pass\n"
        "print(json.dumps(blobs))"
    )

    blobs = probe(pool, code)

    assert len(blobs) >= 2  # os.environ and at least the kernel's own /proc entry
    assert not any(FAKE_SECRET in blob or "MLRANGE_FAKE_SECRET" in blob for blob in blobs)


def test_host_processes_are_invisible_and_unkillable(pool: KernelPool) -> None:
    code = ATTEMPT + (
        "import signal\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "cmdlines = [open(f'/proc/{p}/cmdline', 'rb').read().decode() for p in pids]\n"
        f"killed = attempt(lambda: os.kill({os.getpid()}, signal.SIGKILL))\n"
        "print(json.dumps({'pids': pids, 'cmdlines': cmdlines, 'kill': killed}))"
    )

    seen = probe(pool, code)

    assert len(seen["pids"]) < 10
    assert not any("pytest" in line for line in seen["cmdlines"])
    assert seen["kill"] != "succeeded"


def test_namespaces_mounts_and_exotic_sockets_are_denied(pool: KernelPool) -> None:
    code = ATTEMPT + (
        "import ctypes, socket\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def check(rc):\n"
        "    if rc != 0:\n"
        "        raise OSError(ctypes.get_errno(), 'denied')\n"
        "print(json.dumps({\n"
        "  'unshare_user': attempt(lambda: check(libc.unshare(0x10000000))),\n"
        "  'unshare_mount': attempt(lambda: check(libc.unshare(0x00020000))),\n"
        "  'unshare_net': attempt(lambda: check(libc.unshare(0x40000000))),\n"
        "  'mount': attempt(lambda: check(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))),\n"
        "  'vsock': attempt(lambda: socket.socket(40, socket.SOCK_STREAM)),\n"
        "  'af_alg': attempt(lambda: socket.socket(38, socket.SOCK_SEQPACKET)),\n"
        "  'su': attempt(lambda: os.setuid(0)),\n"
        "}))"
    )

    outcomes = probe(pool, code)

    assert "succeeded" not in outcomes.values(), outcomes


def test_fork_bomb_is_stopped_by_the_process_limit(pool: KernelPool) -> None:
    code = (
        "import json, os, time\n"
        "forks = 0\n"
        "try:\n"
        "    for _ in range(1000):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        forks += 1\n"
        "except OSError as exc:\n"
        "    print(json.dumps([forks, type(exc).__name__]))"
    )

    forks, error = probe(pool, code)

    assert forks < 64
    assert error == "BlockingIOError"


def test_memory_bomb_raises_memory_error_in_the_kernel(pool: KernelPool) -> None:
    result = pool.execute(["block = bytearray(8 * 2**30)"])

    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "MemoryError"


def test_disk_fill_stops_at_the_tmpfs_size(pool: KernelPool) -> None:
    code = (
        "import json\n"
        "def fill(folder):\n"
        "    written = 0\n"
        "    try:\n"
        "        for index in range(10):\n"
        "            with open(f'{folder}/fill{index}', 'wb') as out:\n"
        "                for _ in range(20):\n"
        "                    written += out.write(b'x' * 2**20)\n"
        "    except OSError as exc:\n"
        "        return [written // 2**20, exc.errno]\n"
        "    return [written // 2**20, 0]\n"
        "print(json.dumps({'tmp': fill('/tmp'), 'work': fill('.')}))"
    )

    outcomes = probe(pool, code)

    assert outcomes["tmp"][0] <= 96
    assert outcomes["tmp"][1] == 28  # ENOSPC: the tmpfs of this module's config is 96 MiB
    assert outcomes["work"][0] <= 96
    assert outcomes["work"][1] == 28


def test_single_file_is_capped_by_the_file_size_limit(pool: KernelPool, config: SandboxConfig) -> None:
    code = (
        "import json, os\n"
        "size = 0\n"
        "try:\n"
        "    with open('big', 'wb') as out:\n"
        "        while True:\n"
        "            size += out.write(b'x' * 2**20)\n"
        "except OSError as exc:\n"
        "    print(json.dumps([size // 2**20, exc.errno]))"
    )
    assert config.limits.max_file_mb == 64

    size_mib, error = probe(pool, code)

    assert size_mib <= 64
    assert error == 27  # EFBIG at RLIMIT_FSIZE (64 MiB), before the 96 MiB tmpfs is full


def test_infinite_loop_is_killed_at_the_wall_timeout(pool: KernelPool) -> None:
    result = pool.execute(["while True: pass"], timeout=1)

    assert result.status == "timeout"


def test_ignoring_sigterm_does_not_survive_the_timeout(pool: KernelPool) -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('mlrange-sigterm-ignorer', flush=True)\n"
        "time.sleep(120)"
    )

    result = pool.execute([code], timeout=1)

    assert result.status == "timeout"
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert "mlrange-sigterm-ignorer" not in ps.stdout


def test_stdout_flood_is_cut_at_the_output_limit(pool: KernelPool) -> None:
    result = pool.execute(["import sys\nwhile True: sys.stdout.write('flood' * 200)"])

    assert result.status == "output_limit"
