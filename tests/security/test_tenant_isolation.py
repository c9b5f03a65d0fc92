"""Tenant isolation: one execution cannot starve, fill or crash the worker host.

Each attack runs FOR REAL in a pooled kernel (the code a learner could submit) and the test
asserts the bound that stops it, with the measured figure in the assertion message:
memory of everything one execution starts, /dev/shm, host disk, the worker's own memory under
a multi-frame message flood, the CPU quota, and the sandbox's setup failing closed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlrange.sandbox import KernelPool, SandboxConfig, SandboxLimits, SandboxUnavailableError
from mlrange.sandbox.cgroups import (
    CgroupRoot,
    CgroupUnavailableError,
    _cgroup_mounts,
    _own_cgroups,
)
from mlrange.sandbox.jail import Jail, jail_spawn, prepare_run_root
from mlrange.sandbox.kernel import SandboxedKernel
from tests.sandbox.support import sandbox_config, short_run_dir, worker_rss_mib

pytestmark = pytest.mark.sandbox

MIB = 2**20
LIMIT_MB = 512
SLACK_MB = 16  # page-granular accounting, the kernel's own slab


@pytest.fixture(scope="module", params=["jailed", "template"])
def config(request: pytest.FixtureRequest) -> Iterator[SandboxConfig]:
    """Every bound for both kinds of kernel: one jail each, and forked from a template."""
    run_dir = short_run_dir()
    template = request.param == "template"
    yield sandbox_config(run_dir, kernel_template=template, memory_mb=2048, wall_timeout_s=60.0)
    shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pool(config: SandboxConfig) -> Iterator[KernelPool]:
    kernel_pool = KernelPool(config, size=2, acquire_timeout=90)
    kernel_pool.start()
    try:
        assert kernel_pool.wait_ready(count=1, timeout=90), kernel_pool.stats()
        yield kernel_pool
    finally:
        kernel_pool.shutdown()


def execution_limits(config: SandboxConfig, **changes: Any) -> SandboxLimits:
    return dataclasses.replace(config.limits, **changes)


def stdout_json(outputs: list[dict[str, Any]]) -> Any:
    text = "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stdout")
    return json.loads(text.strip().splitlines()[-1])


FORKED_HOGS = """
import os, numpy as np
pids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = np.ones(300 * 2**20 // 8)  # 300 MiB each, touched
        import time; time.sleep(2)
        os._exit(0)
    pids.append(pid)
print([os.waitpid(pid, 0)[1] for pid in pids])
"""


def test_forked_children_share_the_execution_memory_limit(pool: KernelPool, config: SandboxConfig) -> None:
    """Three children of 300 MiB under a 512 MB limit: rlimits alone let them hold 900 MiB."""
    result = pool.execute([FORKED_HOGS], limits=execution_limits(config, memory_mb=LIMIT_MB))

    peak_mb = result.memory_peak_bytes / MIB
    assert result.memory_limit_hit, (result.status, result.outputs)
    assert 0 < peak_mb <= LIMIT_MB + SLACK_MB, f"one execution held {peak_mb:.0f} MiB"


def test_dev_shm_writes_stop_at_the_cap_and_count_against_memory(
    pool: KernelPool, config: SandboxConfig
) -> None:
    code = """
import json, os
written = 0
try:
    for i in range(40):
        with open(f"/dev/shm/fill{i}", "wb") as f:
            for _ in range(16):
                f.write(b"x" * 2**20)
                written += 2**20
except OSError as exc:
    error = exc.errno
print(json.dumps({"written": written, "errno": error}))
"""
    host_before = shutil.disk_usage("/dev/shm").used
    result = pool.execute([code], limits=execution_limits(config, shm_mb=64))
    host_after = shutil.disk_usage("/dev/shm").used

    report = stdout_json(result.outputs)
    assert report["errno"] == 28, report  # ENOSPC: the sandbox's own /dev/shm is full
    assert report["written"] <= 64 * MIB, f"wrote {report['written'] / MIB:.0f} MiB to /dev/shm"
    assert abs(host_after - host_before) < 8 * MIB, "host /dev/shm changed"


def test_no_host_filesystem_is_writable_inside(pool: KernelPool, config: SandboxConfig) -> None:
    code = """
import json, os, stat
writable = []
for line in open("/proc/self/mountinfo"):
    left, _, right = line.partition(" - ")
    fields, fs_type = left.split(), right.split()[0]
    point = fields[4]
    is_device_node = fs_type == "devtmpfs" and stat.S_ISCHR(os.stat(point).st_mode)  # /dev/null...
    if "rw" in fields[5].split(",") and fs_type not in ("tmpfs", "proc", "devpts") and not is_device_node:
        writable.append((point, fs_type))
print(json.dumps(writable))
"""
    result = pool.execute([code])

    assert stdout_json(result.outputs) == []
    for child in config.run_dir.iterdir():  # what the host holds for kernels: no learner files
        if child.name.startswith("k"):
            assert {p.name for p in child.iterdir()} <= {"c.json"}


def test_a_write_loop_leaves_host_disk_free_space_unchanged(pool: KernelPool, config: SandboxConfig) -> None:
    code = """
import json, os
written = 0
for folder in ("/home/learner", "/tmp", "/run/kernel", "/dev/shm", "/lab-assets", "/"):
    for i in range(64):
        try:
            with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                for _ in range(8):
                    f.write(b"y" * 2**20)
                    written += 2**20
        except OSError:
            break
print(json.dumps(written))
"""
    free_before = shutil.disk_usage(config.run_dir).free
    result = pool.execute([code], limits=execution_limits(config, memory_mb=LIMIT_MB))
    free_after = shutil.disk_usage(config.run_dir).free

    assert result.status in ("ok", "crashed"), result.outputs
    # Other processes on this machine write too: allow some noise, far below what was written.
    assert free_before - free_after < 64 * MIB, (
        f"host disk free space fell {(free_before - free_after) / MIB:.0f} MiB"
    )


def test_a_multi_frame_message_flood_does_not_grow_the_worker(pool: KernelPool) -> None:
    """One IOPub message of 219 frames of 7 MiB: libzmq would buffer 1.5 GiB in the worker."""
    flood = """
kernel = get_ipython().kernel
frame = b"x" * (7 * 2**20)
kernel.iopub_socket.send_multipart([frame] * 219)
import time; time.sleep(5)
"""
    before = worker_rss_mib()
    result = pool.execute([flood])
    grown = worker_rss_mib() - before

    assert result.status == "output_limit", result.outputs
    assert grown < 64, f"the worker grew {grown:.0f} MiB"


def test_cpu_quota_bounds_all_processes_of_an_execution(pool: KernelPool, config: SandboxConfig) -> None:
    code = """
import json, os, resource, time
deadline = time.monotonic() + 2.0
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        while time.monotonic() < deadline:
            pass
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps(usage.ru_utime + usage.ru_stime))
"""
    result = pool.execute([code], limits=execution_limits(config, cpu_cores=0.5))

    cpu_seconds = stdout_json(result.outputs)
    # Four spinning processes for 2 s would use 4 CPU-s on 4 free cores; 0.5 core allows ~1 s.
    assert cpu_seconds < 1.6, f"the execution used {cpu_seconds:.2f} CPU-s in 2 s of wall time"


def test_seccomp_denies_modify_ldt_and_netlink_other_than_route(pool: KernelPool) -> None:
    code = """
import ctypes, errno, json, socket
libc = ctypes.CDLL(None, use_errno=True)
ldt = libc.syscall(154, 0, 0, 0)
ldt_errno = ctypes.get_errno()
def netlink(protocol):
    try:
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol).close()
        return "allowed"
    except OSError as exc:
        return errno.errorcode[exc.errno]
print(json.dumps({"ldt": [ldt, errno.errorcode.get(ldt_errno)], "audit": netlink(9), "route": netlink(0)}))
"""
    result = pool.execute([code])

    assert stdout_json(result.outputs) == {
        "ldt": [-1, "EPERM"],
        "audit": "EPROTONOSUPPORT",
        "route": "allowed",
    }


def test_no_seccomp_filter_for_the_machine_means_no_sandbox(
    config: SandboxConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlrange.sandbox.jail.seccomp_filter", lambda: None)
    jail = Jail(command=["/bin/true"], limits=config.limits, chdir="/tmp")

    with pytest.raises(SandboxUnavailableError, match="no seccomp filter"):
        jail_spawn(config, jail)


def test_a_run_dir_planted_as_a_link_is_refused(tmp_path: Path, config: SandboxConfig) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    planted = tmp_path / "run"
    planted.symlink_to(target)

    with pytest.raises(SandboxUnavailableError, match="not a plain folder"):
        prepare_run_root(dataclasses.replace(config, run_dir=planted))
    assert list(target.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to plant a folder owned by another uid")
def test_a_run_dir_owned_by_someone_else_is_refused(tmp_path: Path, config: SandboxConfig) -> None:
    planted = tmp_path / "run"
    planted.mkdir(mode=0o777)
    os.chown(planted, 65534, 65534)

    with pytest.raises(SandboxUnavailableError, match="belongs to uid 65534"):
        prepare_run_root(dataclasses.replace(config, run_dir=planted))


def test_kernel_cgroups_live_below_the_workers_own_and_are_removed(config: SandboxConfig) -> None:
    own_v1, _ = _own_cgroups(Path("/proc/self/cgroup").read_text())
    kernel = SandboxedKernel.start(config, timeout=60)
    try:
        assert kernel.cgroup is not None
        memory_dir = kernel.cgroup.dirs["memory"]
        assert memory_dir.parent.name == f"mlrange-{os.getpid()}"
        if own_v1.get("memory"):
            assert own_v1["memory"].rstrip("/") in str(memory_dir)
        assert kernel.process is not None
        assert kernel.process.pid in kernel.cgroup.pids()
        assert kernel.sandbox_pid in kernel.cgroup.pids()
    finally:
        kernel.destroy()
    assert not any(folder.exists() for folder in kernel.cgroup.dirs.values())


def test_single_user_mode_runs_without_a_cgroup(config: SandboxConfig) -> None:
    single = dataclasses.replace(config, isolation="single-user")
    kernel = SandboxedKernel.start(single, timeout=60)
    try:
        assert kernel.cgroup is None
        result = kernel.run(["print(6 * 7)"], artifacts=[], timeout=20)
    finally:
        kernel.destroy()
    assert result.outputs == [{"type": "stream", "name": "stdout", "text": "42\n", "cell": 0}]


def test_cgroup_discovery_reads_the_hybrid_layout() -> None:
    own_v1, own_v2 = _own_cgroups("4:memory:/worker/a\n8:pids:/\n1:cpu,cpuacct:/w\n0::/\n")
    mounts_v1, mount_v2 = _cgroup_mounts(
        "30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "29 25 0:25 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    )

    assert own_v1 == {"memory": "/worker/a", "pids": "/", "cpu": "/w", "cpuacct": "/w"}
    assert own_v2 == "/"
    assert mounts_v1["cpu"] == Path("/sys/fs/cgroup/cpu,cpuacct")
    assert mount_v2 == Path("/sys/fs/cgroup/unified")


def test_a_v2_subtree_without_the_controllers_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset io\n")

    with pytest.raises(CgroupUnavailableError, match="memory, pids, cpu not delegated"):
        CgroupRoot._setup_v2(os.getpid(), tmp_path)
