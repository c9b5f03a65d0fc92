"""KernelPool against real bubblewrap-sandboxed kernels."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import time

import pytest

from mlrange.sandbox import ArtifactSpec, KernelPool, SandboxConfig, SandboxUnavailableError
from tests.sandbox.support import worker_rss_mib

pytestmark = pytest.mark.sandbox


def stdout_of(result) -> str:
    return "".join(o["text"] for o in result.outputs if o["type"] == "stream" and o["name"] == "stdout")


def test_execute_returns_stdout(pool: KernelPool) -> None:
    result = pool.execute(["print(1+1)"])

    assert result.status == "ok"
    assert result.outputs == [{"type": "stream", "name": "stdout", "text": "2\n", "cell": 0}]
    assert result.cells_run == 1


def test_execute_runs_cells_in_order_and_returns_displays(pool: KernelPool) -> None:
    result = pool.execute(["x = 20", "x + 1"])

    assert result.status == "ok"
    assert result.outputs == [{"type": "display", "data": {"text/plain": "21"}, "cell": 1}]
    assert result.cells_run == 2


def test_execute_runs_torch(pool: KernelPool) -> None:
    code = "import torch\nw = torch.ones(3, 3) @ torch.arange(3.0)\nprint(w.tolist())"

    result = pool.execute([code], timeout=60)

    assert result.status == "ok", result.outputs
    assert stdout_of(result) == "[3.0, 3.0, 3.0]\n"


def test_error_stops_execution_and_reports_ename(pool: KernelPool) -> None:
    result = pool.execute(["print('before')", "1/0", "print('never')"])

    assert result.status == "error"
    assert result.cells_run == 2
    error = result.outputs[-1]
    assert error["type"] == "error"
    assert error["ename"] == "ZeroDivisionError"
    assert not any("\x1b[" in line for line in error["traceback"])
    assert "never" not in stdout_of(result)


def test_variables_do_not_leak_between_executions(pool: KernelPool) -> None:
    pool.execute(["secret_value = 42"])

    result = pool.execute(["secret_value"])

    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "NameError"


def test_files_do_not_leak_between_executions(pool: KernelPool) -> None:
    pool.execute(["open('left.txt', 'w').write('x'); open('/tmp/left.txt', 'w').write('x')"])

    result = pool.execute(["import os; print(os.path.exists('left.txt'), os.path.exists('/tmp/left.txt'))"])

    assert stdout_of(result) == "False False\n"


def test_npy_artifact_round_trip_is_byte_identical(pool: KernelPool) -> None:
    code = (
        "import hashlib, numpy as np\n"
        "np.save('result.npy', np.arange(10_000, dtype=np.float32) / 7)\n"
        "print(hashlib.sha256(open('result.npy', 'rb').read()).hexdigest())"
    )

    result = pool.execute([code], artifacts=[ArtifactSpec("result.npy", 1_000_000)])

    assert result.status == "ok"
    data = result.artifacts["result.npy"]
    assert data.startswith(b"\x93NUMPY")
    assert hashlib.sha256(data).hexdigest() == stdout_of(result).strip()
    assert result.artifact_errors == {}


def test_large_artifact_crosses_several_chunks(pool: KernelPool) -> None:
    code = (
        "import hashlib, os\n"
        "data = os.urandom(9 * 2**20)\n"
        "open('big.bin', 'wb').write(data)\n"
        "print(hashlib.sha256(data).hexdigest())"
    )

    result = pool.execute([code], artifacts=[ArtifactSpec("big.bin", 10 * 2**20)])

    assert result.status == "ok", result.artifact_errors
    assert len(result.artifacts["big.bin"]) == 9 * 2**20
    assert hashlib.sha256(result.artifacts["big.bin"]).hexdigest() == stdout_of(result).strip()


def test_oversized_artifact_is_refused(pool: KernelPool) -> None:
    result = pool.execute(
        ["open('result.npy', 'wb').write(b'x' * 2000)"],
        artifacts=[ArtifactSpec("result.npy", 1000)],
    )

    assert "result.npy" not in result.artifacts
    assert "too large" in result.artifact_errors["result.npy"]


def test_symlink_artifact_is_refused(pool: KernelPool) -> None:
    result = pool.execute(
        ["import os; os.symlink('/etc/passwd', 'result.npy')"],
        artifacts=[ArtifactSpec("result.npy", 100_000)],
    )

    assert "result.npy" not in result.artifacts
    assert result.artifact_errors["result.npy"] == "not a regular file"


def test_missing_artifact_is_absent_and_others_still_come_back(pool: KernelPool) -> None:
    result = pool.execute(
        ["open('b.json', 'w').write('{}')"],
        artifacts=[ArtifactSpec("a.npy", 100), ArtifactSpec("b.json", 100)],
    )

    assert result.artifacts == {"b.json": b"{}"}
    assert result.artifact_errors == {}


def test_fifo_artifact_is_refused_without_hanging(pool: KernelPool) -> None:
    result = pool.execute(["import os; os.mkfifo('result.npy')"], artifacts=[ArtifactSpec("result.npy", 100)])

    assert result.artifact_errors["result.npy"] == "not a regular file"


def test_timeout_kills_kernel_and_pool_keeps_serving(pool: KernelPool) -> None:
    result = pool.execute(["print('start', flush=True)", "while True: pass"], timeout=1.5)

    assert result.status == "timeout"
    assert 1.5 <= result.duration_s < 5
    assert pool.execute(["print(1+1)"]).status == "ok"


@pytest.mark.parametrize(
    "code",
    ["import os; os._exit(3)", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
    ids=["os_exit", "sigkill"],
)
def test_dead_kernel_is_reported_as_crashed(pool: KernelPool, code: str) -> None:
    result = pool.execute([code])

    assert result.status == "crashed"
    assert pool.execute(["print(1+1)"]).status == "ok"


def test_output_flood_stops_at_limit_without_growing_worker(pool: KernelPool) -> None:
    before = worker_rss_mib()

    result = pool.execute(["while True: print('y' * 1000)"])

    assert result.status == "output_limit"
    assert sum(len(o.get("text", "")) for o in result.outputs) <= 1_000_000
    assert worker_rss_mib() - before < 50


def test_single_huge_print_is_output_limit_without_growing_worker(pool: KernelPool) -> None:
    before = worker_rss_mib()

    result = pool.execute(["print('z' * 50_000_000)"])

    assert result.status == "output_limit"
    assert worker_rss_mib() - before < 50


def test_no_kernel_process_outlives_its_execution(pool: KernelPool) -> None:
    pool.execute(["import time; time.sleep(30)"], timeout=0.5)
    pool.execute(["print(1)"])

    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    running = [line for line in processes.stdout.splitlines() if "time.sleep(30)" in line]
    assert running == []
    assert pool.stats()["served"] >= 2


def test_pool_counts_failed_starts_and_reports_them(config: SandboxConfig) -> None:
    broken = KernelPool(
        dataclasses.replace(config, preload="raise SystemExit('no preload')"),
        size=1,
        acquire_timeout=2,
    )
    broken.start()
    try:
        deadline = time.monotonic() + 60  # a loaded machine may take a while to fail once
        while broken.stats()["failed_starts"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(SandboxUnavailableError, match="preload failed"):
            broken.execute(["print(1)"])
        assert broken.stats()["failed_starts"] >= 1
        assert broken.stats()["started"] == 0
    finally:
        broken.shutdown()


def test_pool_grows_to_the_demand_within_its_max(config: SandboxConfig) -> None:
    growing = KernelPool(config, size=1, max_size=3, acquire_timeout=60)
    growing.start()
    try:
        assert growing.wait_ready(count=1, timeout=60)
        growing.set_demand(10)
        assert growing.stats()["target"] == 3
        assert growing.wait_ready(count=3, timeout=120), growing.stats()
        growing.set_demand(0)
        assert growing.stats()["target"] == 1
    finally:
        growing.shutdown()
