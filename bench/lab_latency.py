"""Lab latency and throughput, through the real HTTP API with a real Celery worker.

Run: `python -m bench.lab_latency [--runs N] [--seconds S]`. In one run it:

1. builds a throwaway platform in a temporary folder (SQLite, filesystem queue), loads the
   curriculum, builds the lab assets, and starts gunicorn plus a Celery worker (prefork,
   2 processes, a warm pool of 2 sandboxed kernels each, torch preloaded);
2. measures submit -> final result through the API (POST, then GET polled every 5 ms) for
   `print(1+1)` and for a small torch computation, N times each, one at a time;
3. runs the same code the way nbgrader grades (nbclient, a fresh unsandboxed kernel from the
   same runtime) as the baseline;
4. submits graded lab solutions for S seconds from several learners, keeping the worker
   busy, and counts graded results per second and submissions that never finished.

Targets (issue "Sandboxed lab pipeline"): p50 >= 10x faster than the baseline; p95 <= 1 s +
the code's own run time; >= 1 graded submission per second sustained; zero lost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT = "print(1+1)"
TORCH = "import torch\ntorch.manual_seed(0)\nx = torch.randn(64, 64)\nprint(float((x @ x.T).trace()))"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stages(body: dict[str, object]) -> tuple[float, float]:
    """(queued: created -> a worker claimed it, in the worker: claimed -> result stored), seconds."""
    created, started, finished = (
        datetime.fromisoformat(str(body[key])) for key in ("created_at", "started_at", "finished_at")
    )
    return (started - created).total_seconds(), (finished - started).total_seconds()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Platform:
    """gunicorn + Celery worker over a temporary SQLite database and filesystem queue."""

    def __init__(
        self,
        var_dir: Path,
        *,
        labs_dir: str | None,
        broker: str,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
        labs: tuple[str, ...] = ("adversarial-examples", "threat-model"),
    ) -> None:
        self.var_dir = var_dir
        self.port = _free_port()
        self.concurrency = concurrency
        self.labs = labs
        self.env = {
            **os.environ,
            "MLRANGE_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3",
            "CELERY_BROKER_URL": broker,
            "DJANGO_SETTINGS_MODULE": "mlrange.settings",
            "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
            "LOG_LEVEL": "WARNING",
            "MLRANGE_POOL_SIZE": "2",
            "MLRANGE_MAX_IN_FLIGHT": "50",
            # A benchmark measures the platform, not its per-user API throttles.
            "API_THROTTLE_USER": "1000000/min",
            "API_THROTTLE_SUBMISSIONS": "1000000/min",
            "API_THROTTLE_ANSWERS": "1000000/min",
        }
        if labs_dir:
            self.env["MLRANGE_LABS_DIR"] = labs_dir
        self.env.update(extra_env or {})
        self.procs: list[subprocess.Popen[bytes]] = []

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_curriculum", "-v0")
        self.manage("build_lab_assets", *self.labs)
        log = (self.var_dir / "worker.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "mlrange",
                    "worker",
                    "-Q",
                    "labs,default",
                    "--concurrency",
                    str(self.concurrency),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "mlrange.wsgi:application",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "32",  # long polls (?wait=) hold a thread each
                    "--keep-alive",
                    "10",  # longer than clients' think time: no reset on a reused idle connection
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health/", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the web server did not start")

    def token(self, username: str) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from mlrange.accounts.models import User; from rest_framework.authtoken.models import Token;"
                f"u, _ = User.objects.get_or_create(username={username!r}); print(Token.objects.get_or_create(user=u)[0].key)",
            ],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def _call(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def submit(self, code: str, mode: str, lab: str = "adversarial-examples") -> str:
        body = self._call("POST", f"/api/v1/labs/{lab}/submissions/", {"mode": mode, "code": code})
        return str(body["id"])

    def status(self, submission_id: str) -> dict[str, object]:
        return self._call("GET", f"/api/v1/submissions/{submission_id}/")

    def run_to_end(
        self, code: str, mode: str = "run", timeout: float = 120.0
    ) -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        submission_id = self.submit(code, mode)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            body = self.status(submission_id)
            if body["is_final"]:
                return time.perf_counter() - started, body
            time.sleep(0.005)
        raise TimeoutError(submission_id)


def nbclient_baseline(code: str, runs: int, runtime: Path, work: Path) -> list[float]:
    """The same code as a one-cell notebook, each run in a fresh unsandboxed kernel (nbgrader's way)."""
    import nbformat
    from nbclient import NotebookClient

    spec_dir = work / "kernels" / "mlrange-runtime"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(runtime / "bin" / "python"),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                    "--IPKernelApp.log_level=ERROR",
                ],
                "display_name": "runtime",
                "language": "python",
            }
        )
    )
    os.environ["JUPYTER_PATH"] = str(work)
    times = []
    for _ in range(runs):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code)]
        started = time.perf_counter()
        NotebookClient(nb, kernel_name="mlrange-runtime", timeout=120).execute()
        times.append(time.perf_counter() - started)
    return times


def throughput(base: str, tokens: list[str], seconds: float, solution: str, lab: str) -> dict[str, float]:
    """Keep every learner with one graded submission in flight for `seconds`; count results."""
    import threading

    results: list[tuple[float, str]] = []
    timings: list[tuple[float, float]] = []
    submitted: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def learner(token: str) -> None:
        client = Client(base, token)
        while time.perf_counter() < stop_at:
            submission_id = client.submit(solution, "grade", lab)
            with lock:
                submitted.append(submission_id)
            while True:  # a long poll: answered the moment the result is stored
                body = client._call("GET", f"/api/v1/submissions/{submission_id}/?wait=30")
                if body["is_final"]:
                    with lock:
                        results.append((time.perf_counter(), str(body["status"])))
                        timings.append(
                            (float(body["execution_seconds"] or 0), float(body["grading_seconds"] or 0))
                        )
                    break

    threads = [threading.Thread(target=learner, args=(t,)) for t in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    elapsed = time.perf_counter() - started
    in_window = [r for r in results if r[0] <= started + seconds]
    return {
        "submitted": len(submitted),
        "finished": len(results),
        "lost": len(submitted) - len(results),
        "passed": sum(1 for _, s in results if s == "passed"),
        "per_second": len(in_window) / seconds,
        "elapsed": elapsed,
        "execution_s": statistics.median(t for t, _ in timings) if timings else float("nan"),
        "grading_s": statistics.median(g for _, g in timings) if timings else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--broker", default="filesystem://", help="e.g. redis://127.0.0.1:6379/2 (production shape)"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between latency submissions")
    parser.add_argument("--baseline-runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--labs-dir", default=os.environ.get("MLRANGE_LABS_DIR"))
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="mlrange-bench-"))
    platform = Platform(var_dir, labs_dir=args.labs_dir, broker=args.broker)
    print(f"broker: {args.broker}")
    runtime = Path(os.environ.get("MLRANGE_RUNTIME", "/opt/mlrange/runtime"))
    try:
        platform.start()
        base = f"http://127.0.0.1:{platform.port}"
        client = Client(base, platform.token("bench"))
        for _ in range(6):  # warm-up: every pooled kernel of both worker processes started once
            client.run_to_end(PRINT)
        rows = []
        for name, code in (("print(1+1)", PRINT), ("small torch", TORCH)):
            measured = []
            for _ in range(args.runs):
                started = time.perf_counter()
                measured.append(client.run_to_end(code))
                # One submission per interval, as learners click Run: the pool refills between them.
                time.sleep(max(0.0, args.interval - (time.perf_counter() - started)))
            latencies = [t for t, _ in measured]
            own = [float(b["execution_seconds"] or 0.0) for _, b in measured]
            baseline = nbclient_baseline(code, args.baseline_runs, runtime, var_dir)
            stages = [_stages(b) for _, b in measured]
            rows.append((name, latencies, own, baseline, stages))
        print(
            f"\nLab latency, submit -> final result via the HTTP API ({args.runs} runs each, one every "
            f"{args.interval:g} s; baseline {args.baseline_runs})"
        )
        print(
            f"{'code':<12} {'p50 ms':>8} {'p95 ms':>8} {'own run ms':>10} {'nbclient p50 ms':>16} {'p50 speed-up':>13} {'p95 - own ms':>13}"
        )
        for name, latencies, own, baseline, _ in rows:
            p50, p95 = _pct(latencies, 0.5) * 1000, _pct(latencies, 0.95) * 1000
            own_ms = statistics.median(own) * 1000
            base_p50 = _pct(baseline, 0.5) * 1000
            print(
                f"{name:<12} {p50:8.0f} {p95:8.0f} {own_ms:10.0f} {base_p50:16.0f} {base_p50 / p50:12.1f}x {p95 - own_ms:13.0f}"
            )
        print(
            "\nWhere the time goes (medians, ms): queued = created -> claimed by a worker; worker = claimed ->"
        )
        print(
            "result stored (kernel from the pool, run, outputs, database); the rest = HTTP POST, polling, HTTP GET."
        )
        for name, latencies, own, _, stages in rows:
            queued = statistics.median(q for q, _ in stages) * 1000
            worker = statistics.median(w for _, w in stages) * 1000
            total = statistics.median(latencies) * 1000
            print(
                f"{name:<12} queued {queued:5.0f}  worker {worker:5.0f} (own run {statistics.median(own) * 1000:4.0f})  "
                f"rest {total - queued - worker:5.0f}  total {total:5.0f}"
            )

        tokens = [platform.token(f"learner{i}") for i in range(args.learners)]
        for lab, solution_file, kernel in (
            ("threat-model", "reference.py", "light kernel, JSON artifact"),
            ("adversarial-examples", "reference_pgd.py", "torch kernel, PGD on 300 images"),
        ):
            solution = (ROOT / "labs" / lab / "solutions" / solution_file).read_text()
            result = throughput(base, tokens, args.seconds, solution, lab)
            print(
                f"\nGraded throughput over {args.seconds:.0f} s: {lab} ({kernel}), {args.learners} learners each "
                "keeping one graded reference submission in flight:"
            )
            print(
                f"  {result['per_second']:.2f} graded submissions/s; submitted {result['submitted']}, "
                f"finished {result['finished']}, passed {result['passed']}, lost {result['lost']}"
            )
    except BaseException:
        log = var_dir / "worker.log"
        if log.exists():  # what the worker and the web server said is the first thing to read
            print("--- last lines of the worker and web server log ---", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        platform.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
