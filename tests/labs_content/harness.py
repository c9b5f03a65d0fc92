"""Plain-subprocess harness for lab content tests: runs solutions and graders with the runtime.

Trusted code only (our own solutions and graders): real learner code only ever runs in
mlrange.sandbox. The setup cell is the registry's, pointed at the host assets folder.
"""

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from django.conf import settings

from mlrange.labs.registry import LabSpec, setup_cell_source

_GRADE_MANY = textwrap.dedent(
    """
    import json, sys, types
    from pathlib import Path
    jobs = json.loads(Path(sys.argv[1]).read_text())
    sys.path.insert(0, jobs["grader_dir"])
    import grader
    results = []
    for job in jobs["jobs"]:
        ctx = types.SimpleNamespace(
            artifacts_dir=Path(job["artifacts_dir"]),
            public_dir=Path(jobs["public_dir"]),
            hidden_dir=Path(jobs["hidden_dir"]),
            params=job["params"],
        )
        results.append(grader.grade(ctx))
    print(json.dumps(results))
    """
)


def runtime_python() -> str:
    return str(Path(settings.SANDBOX_RUNTIME) / "bin" / "python")


def runtime_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_python(code: str, *, cwd: Path, args: tuple[str, ...] = (), timeout: float = 120) -> str:
    script = cwd / "_harness_script.py"
    script.write_text(code)
    try:
        result = subprocess.run(
            [runtime_python(), str(script), *args],
            cwd=cwd,
            env=runtime_env(cwd),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        script.unlink()
    if result.returncode != 0:
        raise AssertionError(f"runtime script failed:\n{result.stderr[-3000:]}")
    return result.stdout


def run_solution(
    spec: LabSpec, code: str, *, variant: dict[str, Any], public_dir: Path, workdir: Path
) -> Path:
    """Run setup cell + solution in workdir (its cwd); return workdir with what it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    setup = setup_cell_source(spec, variant, assets_path=str(public_dir))
    run_python(setup + "\n" + code, cwd=workdir)
    return workdir


def grade_many(
    *,
    grader_dir: Path,
    public_dir: Path,
    hidden_dir: Path,
    jobs: list[tuple[Path, dict[str, Any]]],
    cwd: Path,
) -> list[dict[str, Any]]:
    """Grade several artifact folders in one runtime process (one torch import)."""
    jobs_file = cwd / "_jobs.json"
    jobs_file.write_text(
        json.dumps(
            {
                "grader_dir": str(grader_dir),
                "public_dir": str(public_dir),
                "hidden_dir": str(hidden_dir),
                "jobs": [{"artifacts_dir": str(path), "params": params} for path, params in jobs],
            }
        )
    )
    out = run_python(_GRADE_MANY, cwd=cwd, args=(str(jobs_file),))
    return json.loads(out.strip().splitlines()[-1])


def passed_tiers(report: dict[str, Any], tier_ids: set[str]) -> set[str]:
    return {c["id"] for c in report["checks"] if c["passed"] and c["id"] in tier_ids}


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def make_link(link: Path, target: Path) -> None:
    os.symlink(target, link)
