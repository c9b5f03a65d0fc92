"""`python -m bench` (what `make bench` runs): every benchmark, one after another.

Each prints its figures and ratios against a baseline measured in the same run; the
numbers recorded for this machine are in bench/RESULTS.md.
"""

import subprocess
import sys

BENCHMARKS = ["bench.assessment_sim", "bench.dashboard", "bench.lab_latency", "bench.capacity"]


def main() -> None:
    failed = []
    for module in BENCHMARKS:
        print(f"\n=== python -m {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module], check=False).returncode != 0:
            failed.append(module)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
