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

from mlrange.labs.registry import LabSpec, get_lab, setup_cell_source
from mlrange.labs.scoring import score_report

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
    spec = get_lab(grader_dir.name, Path(__file__).resolve().parents[2] / "labs")
    return [scored(spec, report) for report in json.loads(out.strip().splitlines()[-1])]


def scored(spec: LabSpec, report: dict[str, Any]) -> dict[str, Any]:
    """A grader's report scored as the platform scores it: points from the lab's manifest."""
    return score_report(report, tiers=spec.tiers, pass_points=spec.pass_points)


def passed_tiers(report: dict[str, Any], tier_ids: set[str]) -> set[str]:
    return {c["id"] for c in report["checks"] if c["passed"] and c["id"] in tier_ids}


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def make_link(link: Path, target: Path) -> None:
    os.symlink(target, link)


ATLAS_FILE = Path(__file__).resolve().parents[2] / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"


def labs_in_isolation(slug: str, root: Path, *, mutate=None) -> Path:
    """A labs folder holding only _shared and (a copy of) one lab: other labs are not our test.

    mutate, if given, is called with the copied manifest's data, which is then written back.
    """
    import shutil

    import yaml

    from tests.labs_content.conftest import REAL_LABS_DIR

    labs = root / "labs"
    labs.mkdir()
    (labs / "_shared").symlink_to(REAL_LABS_DIR / "_shared")
    shutil.copytree(REAL_LABS_DIR / slug, labs / slug, ignore=shutil.ignore_patterns("__pycache__"))
    if mutate is not None:
        path = labs / slug / "manifest.yaml"
        data = yaml.safe_load(path.read_text())
        mutate(data)
        path.write_text(yaml.safe_dump(data))
    return labs


def lab_spec_in_isolation(slug: str, tmp_root: Path) -> LabSpec:
    """The one lab's spec, discovered in an isolated labs folder and validated against the real ATLAS file."""
    from django.test import override_settings

    from mlrange.labs.registry import discover_labs

    with override_settings(ATLAS_DATA_FILE=ATLAS_FILE):
        (found,) = discover_labs(labs_in_isolation(slug, tmp_root))
    return found


def _sandbox_config(spec: LabSpec, run_dir: Path, wall_timeout_s: float):
    import pytest

    from mlrange.sandbox import SandboxConfig, SandboxLimits, SandboxUnavailableError, sandbox_check

    config = SandboxConfig(
        runtime=settings.SANDBOX_RUNTIME,
        run_dir=run_dir,
        limits=SandboxLimits(wall_timeout_s=wall_timeout_s, memory_mb=spec.limits.memory_mb),
    )
    try:
        sandbox_check(config)
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable: {exc}")
    return config


def grade_in_sandbox(spec: LabSpec, dirs, jobs, artifacts=None) -> list[dict[str, Any]]:
    """Grade each (folder with submission.py, params) in the REAL grader sandbox, as the worker does.

    Not the plain-subprocess harness: the grader's child process confines the learner's code
    with Landlock to the sandbox's own paths (/lab/public), which only exist inside the jail.
    artifacts, if given, maps a job's folder to the {name: bytes} to hand in instead of its
    submission.py.
    """
    import shutil
    import tempfile

    from mlrange.sandbox import run_grader

    artifacts = artifacts or {}
    run_dir = Path(tempfile.mkdtemp(prefix="mlrs-", dir="/tmp"))  # short: ipc socket paths
    try:
        config = _sandbox_config(spec, run_dir, spec.limits.grader_timeout_s)
        return [
            scored(
                spec,
                run_grader(
                    config,
                    grader_dir=dirs.grader,
                    public_dir=dirs.public,
                    hidden_dir=dirs.hidden,
                    artifacts=artifacts.get(folder)
                    or {"submission.py": (folder / "submission.py").read_bytes()},
                    params=params,
                    timeout=spec.limits.grader_timeout_s,
                ),
            )
            for folder, params in jobs
        ]
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# Stands in for the lab's grader.py (renamed lab_grader.py next to it) in one sandbox run:
# grades every job of params["jobs"], each a submission copied from the artifacts (or a
# symlink to one, or none at all), with its own params, and returns {"reports": {...}}.
BATCH_GRADER = textwrap.dedent(
    """
    import os, shutil, tempfile, types
    from pathlib import Path
    import lab_grader

    def grade(ctx):
        reports = {}
        for job in ctx.params["jobs"]:
            folder = Path(tempfile.mkdtemp(prefix="job-"))
            if job.get("link"):
                os.symlink(ctx.artifacts_dir / job["link"], folder / "submission.py")
            elif job.get("source"):
                shutil.copyfile(ctx.artifacts_dir / job["source"], folder / "submission.py")
            job_ctx = types.SimpleNamespace(
                artifacts_dir=folder, public_dir=ctx.public_dir, hidden_dir=ctx.hidden_dir, params=job["params"]
            )
            reports[job["name"]] = lab_grader.grade(job_ctx)
            shutil.rmtree(folder, ignore_errors=True)
        return {"reports": reports}
    """
)


def grade_batch_in_sandbox(spec: LabSpec, dirs, sources: dict[str, str], jobs: list[dict]) -> dict[str, dict]:
    """Grade jobs ({"name", "params", and "source" or "link": a key of sources, or neither
    for a missing submission.py}) in ONE real grader sandbox run, with the lab's grader."""
    import shutil
    import tempfile

    from mlrange.sandbox import run_grader

    run_dir = Path(tempfile.mkdtemp(prefix="mlrs-", dir="/tmp"))  # short: ipc socket paths
    grader_dir = Path(tempfile.mkdtemp(prefix="mlrs-grader-"))
    timeout = spec.limits.grader_timeout_s * len(jobs)
    wire = [
        {
            **job,
            "source": job.get("source") and f"{job['source']}.py",
            "link": job.get("link") and f"{job['link']}.py",
        }
        for job in jobs
    ]
    try:
        config = _sandbox_config(spec, run_dir, timeout)
        shutil.copytree(dirs.grader, grader_dir, dirs_exist_ok=True)
        (grader_dir / "grader.py").rename(grader_dir / "lab_grader.py")
        (grader_dir / "grader.py").write_text(BATCH_GRADER)
        result = run_grader(
            config,
            grader_dir=grader_dir,
            public_dir=dirs.public,
            hidden_dir=dirs.hidden,
            artifacts={f"{name}.py": code.encode() for name, code in sources.items()},
            params={"jobs": wire},
            timeout=timeout,
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(grader_dir, ignore_errors=True)
    return {name: scored(spec, report) for name, report in result["reports"].items()}
