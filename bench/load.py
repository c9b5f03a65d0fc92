"""Web load: learners browsing with 1-3 s think time, against gunicorn and PostgreSQL.

Run: `python -m bench.load [--users 50,200] [--seconds 60]` with DATABASE_URL pointing at a
PostgreSQL database this benchmark may fill (default: postgres://postgres@127.0.0.1:5432/test;
SQLite with --sqlite). One run: migrate and load the curriculum, start gunicorn (threaded
workers, as compose runs it), create the learners' tokens, then drive locust headless (bench/
locustfile.py) for each user count, and first with 1 user as the unloaded baseline. Prints
per page p50/p95 and errors; target (issue "Operations"): pages p95 < 50 ms at 50 users,
0 errors.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.lab_latency import ROOT, Platform

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/test"


def locust(host: str, users: int, seconds: int, tokens: list[str], out: Path) -> list[dict[str, str]]:
    prefix = out / f"u{users}"
    env = {**os.environ, "MLRANGE_BENCH_TOKENS": ",".join(tokens)}
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "-u", str(users), "-r", str(max(users // 5, 1)), "-t", f"{seconds}s", "--host", host,
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open()):
            print(f"  {users} users, failed: {row['Name']}: {row['Error'][:160]} x{row['Occurrences']}")
    with open(f"{prefix}_stats.csv") as file:
        return list(csv.DictReader(file))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", default="50,200")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead of PostgreSQL")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="mlrange-load-"))
    platform = Platform(var_dir, labs_dir=None, broker="filesystem://", labs=("adversarial-examples",))
    platform.env["DEBUG"] = "0"
    platform.env["SECURE_SSL_REDIRECT"] = "0"
    platform.env["SECRET_KEY"] = "bench-load-" + "k" * 40
    platform.env["LOG_LEVEL"] = "WARNING"
    if not args.sqlite:
        platform.env["DATABASE_URL"] = os.environ.get("DATABASE_URL", DEFAULT_DB)
    try:
        platform.manage("collectstatic", "--noinput", "-v0")  # production settings serve built assets
        platform.start()
        from bench.capacity import _tokens

        tokens = _tokens(platform, 50, "browser")
        host = f"http://127.0.0.1:{platform.port}"
        db = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"gunicorn (2 workers x 32 threads) + {db}; think time 1-3 s; {args.seconds} s per run")
        print(f"{'users':>5} {'request':<22} {'count':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7}")
        for users in [1, *(int(u) for u in args.users.split(","))]:
            rows = locust(host, users, args.seconds if users > 1 else 20, tokens, var_dir)
            for row in rows:
                print(
                    f"{users:>5} {row['Name']:<22} {row['Request Count']:>6} {row['Failure Count']:>6} "
                    f"{row['50%']:>7} {row['95%']:>7}"
                )
    finally:
        platform.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
