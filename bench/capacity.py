"""Class-ready capacity: a class presses Run at the same moment; kernels forked from templates.

Run: `python -m bench.capacity [--burst 20] [--seconds 30]`. In one run it measures:

1. Memory: the PSS of one fresh jailed torch kernel, against a template plus N kernels forked
   from it (PSS of every process in their cgroups, read from /proc/<pid>/smaps_rollup).
2. With a real platform (gunicorn, Celery prefork worker, SQLite, the filesystem queue or
   --broker), for each configuration: templates on with 2 worker processes, templates on with
   1, templates off with 2 (fresh jails, the previous design):
   - burst: N learners submit the same torch cell at once (64x64 matmul); time until every
     result is in (clients long-poll with ?wait=30), the median, and submissions lost;
   and with templates on and 2 worker processes also:
   - `print(1+1)` submitted once a second through the API: median submit -> result;
   - graded throughput for S seconds: a light-kernel lab (threat-model) and a torch lab
     (adversarial-examples), learners each keeping one graded reference submission in flight.
3. Baselines in the same run: the burst's cells in fresh unsandboxed kernels two at a time
   (nbclient, nbgrader's way), and `print(1+1)` in a fresh kernel.

Targets (issue "Class-ready capacity"): burst >= 5x sooner than the baseline; print p50 >= 10x
faster than a fresh kernel; graded >= 1.5/s (torch) and >= 6/s (light); 10 ready torch
kernels <= 2x one kernel's PSS; zero lost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.lab_latency import (
    PRINT,
    ROOT,
    TORCH,
    Client,
    Platform,
    _pct,
    nbclient_baseline,
    throughput,
)

BURST_LAB = "adversarial-examples"


def _tokens(platform: Platform, count: int, prefix: str) -> list[str]:
    code = (
        "from mlrange.accounts.models import User; from rest_framework.authtoken.models import Token\n"
        f"for i in range({count}):\n"
        f"    u, _ = User.objects.get_or_create(username=f'{prefix}{{i}}')\n"
        "    print(Token.objects.get_or_create(user=u)[0].key)\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=platform.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-count:]


def _wait_final(client: Client, submission_id: str, timeout: float = 180.0) -> dict[str, object]:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        body = client._call("GET", f"/api/v1/submissions/{submission_id}/?wait=30")
        if body["is_final"]:
            return body
    raise TimeoutError(submission_id)


def burst(base: str, tokens: list[str], code: str) -> dict[str, float]:
    """Every learner submits `code` at the same moment; seconds until each result is in."""
    start = threading.Barrier(len(tokens))
    finished: list[float] = []
    statuses: list[str] = []
    lock = threading.Lock()
    began = [0.0]

    def learner(token: str) -> None:
        client = Client(base, token)
        if start.wait() == 0:
            began[0] = time.perf_counter()
        submission_id = client.submit(code, "run", BURST_LAB)
        body = _wait_final(client, submission_id)
        with lock:
            finished.append(time.perf_counter())
            statuses.append(str(body["status"]))

    threads = [threading.Thread(target=learner, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    times = [t - began[0] for t in finished]
    return {
        "all": max(times) if times else float("nan"),
        "p50": statistics.median(times) if times else float("nan"),
        "completed": sum(s == "completed" for s in statuses),
        "lost": len(tokens) - len(finished),
    }


def baseline_burst(code: str, count: int, runtime: Path, work: Path, parallel: int = 2) -> float:
    """The same cells in fresh unsandboxed kernels, `parallel` at a time: seconds for all."""
    lock = threading.Lock()
    remaining = [count]

    def runner() -> None:
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            nbclient_baseline(code, 1, runtime, work)

    began = time.perf_counter()
    threads = [threading.Thread(target=runner) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _pss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def memory(kernels: int) -> dict[str, float]:
    """PSS of one jailed torch kernel vs a template and `kernels` forked ones (MiB)."""
    from mlrange.sandbox import SandboxConfig, SandboxLimits
    from mlrange.sandbox.kernel import SandboxedKernel
    from mlrange.sandbox.template import KernelTemplate

    run_dir = Path(tempfile.mkdtemp(prefix="mlrb-", dir="/tmp"))
    config = SandboxConfig(
        runtime=Path(os.environ.get("MLRANGE_RUNTIME", "/opt/mlrange/runtime")),
        run_dir=run_dir,
        limits=SandboxLimits(wall_timeout_s=60),
        preload="import numpy, torch",
        kernel_template=True,
    )
    try:
        jailed = SandboxedKernel.start(config, timeout=120)
        try:
            assert jailed.cgroup is not None
            one = _pss_kib(jailed.cgroup.pids()) / 1024
        finally:
            jailed.destroy()
        template = KernelTemplate(config)
        template.start(timeout=120)
        forked = []
        try:
            forked = [SandboxedKernel.start(config, timeout=120, template=template) for _ in range(kernels)]
            pids = list(template._cgroup.pids() if template._cgroup else [])
            for kernel in forked:
                assert kernel.cgroup is not None
                pids += kernel.cgroup.pids()
            many = _pss_kib(pids) / 1024
        finally:
            for kernel in forked:
                kernel.destroy()
            template.stop()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return {"one": one, "many": many}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--runs", type=int, default=20, help="print(1+1) submissions, one a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="graded throughput window per lab")
    parser.add_argument("--learners", type=int, default=8)
    parser.add_argument("--pss-kernels", type=int, default=10)
    parser.add_argument("--broker", default="filesystem://")
    parser.add_argument("--only-graded", action="store_true", help="only the graded throughput, templates on")
    parser.add_argument("--baseline-runs", type=int, default=10)
    args = parser.parse_args()
    runtime = Path(os.environ.get("MLRANGE_RUNTIME", "/opt/mlrange/runtime"))
    sys.path.insert(0, str(ROOT / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlrange.settings")

    work = Path(tempfile.mkdtemp(prefix="mlrange-capacity-"))
    configs = [("templates, 2 worker processes", "1", 2)]
    base_burst = base_print = float("nan")
    if not args.only_graded:
        pss = memory(args.pss_kernels)
        print(
            f"Memory (PSS): one jailed torch kernel {pss['one']:.0f} MiB; template + {args.pss_kernels} forked "
            f"kernels {pss['many']:.0f} MiB = {pss['many'] / pss['one']:.2f}x one kernel (target <= 2x)"
        )
        base_burst = baseline_burst(TORCH, args.burst, runtime, work)
        base_print = _pct(nbclient_baseline(PRINT, args.baseline_runs, runtime, work), 0.5)
        print(
            f"Baseline: {args.burst} torch cells in fresh kernels two at a time: {base_burst:.2f} s; "
            f"print(1+1) in a fresh kernel: p50 {base_print * 1000:.0f} ms"
        )
        configs.append(("templates, 1 worker process", "1", 1))
        configs.append(("fresh jails (no template), 2 worker processes", "0", 2))
    for name, template, concurrency in configs:
        var_dir = Path(tempfile.mkdtemp(prefix="mlrange-bench-"))
        platform = Platform(
            var_dir,
            labs_dir=None,
            broker=args.broker,
            concurrency=concurrency,
            extra_env={
                "MLRANGE_KERNEL_TEMPLATE": template,
                "MLRANGE_GRADES_PER_HOUR": "1000000",
                "MLRANGE_MAX_IN_FLIGHT": "1000",
            },
        )
        try:
            platform.start()
            url = f"http://127.0.0.1:{platform.port}"
            tokens = _tokens(platform, max(args.burst, args.learners), "learner")
            warm = Client(url, tokens[0])
            for _ in range(4 * concurrency):
                _wait_final(warm, warm.submit(PRINT, "run", BURST_LAB))
            time.sleep(3)  # pools refilled
            if not args.only_graded:
                result = burst(url, tokens[: args.burst], TORCH)
                print(
                    f"\n[{name}] burst of {args.burst} torch cells: all results in {result['all']:.2f} s "
                    f"(p50 {result['p50']:.2f} s) = {base_burst / result['all']:.1f}x sooner than the baseline; "
                    f"completed {result['completed']}, lost {result['lost']}"
                )
            if template != "1" or concurrency != 2:
                continue
            time.sleep(3)
            latencies = []
            for _ in range(0 if args.only_graded else args.runs):
                began = time.perf_counter()
                _wait_final(warm, warm.submit(PRINT, "run", BURST_LAB))
                latencies.append(time.perf_counter() - began)
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - began)))
            if latencies:
                p50 = _pct(latencies, 0.5)
                print(
                    f"[{name}] print(1+1) via the API, one a second: p50 {p50 * 1000:.0f} ms, p95 "
                    f"{_pct(latencies, 0.95) * 1000:.0f} ms = {base_print / p50:.1f}x faster than a fresh kernel"
                )
            for lab, solution_file in (
                ("threat-model", "reference.py"),
                ("adversarial-examples", "reference_pgd.py"),
            ):
                solution = (ROOT / "labs" / lab / "solutions" / solution_file).read_text()
                graded = throughput(url, tokens[: args.learners], args.seconds, solution, lab)
                print(
                    f"[{name}] graded {lab}: {graded['per_second']:.2f}/s over {args.seconds:.0f} s "
                    f"({args.learners} learners); submitted {graded['submitted']}, finished {graded['finished']}, "
                    f"passed {graded['passed']}, lost {graded['lost']}; median per submission: "
                    f"run {graded['execution_s']:.2f} s, grading {graded['grading_s']:.2f} s"
                )
        except BaseException:
            log = var_dir / "worker.log"
            if log.exists():
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
            raise
        finally:
            platform.stop()
            shutil.rmtree(var_dir, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
