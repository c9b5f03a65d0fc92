"""Runs a submission: the learner's cells in a warm sandboxed kernel, then the trusted grader
in its own sandbox. The only path from the platform to learner code, and it goes through
mlrange.sandbox: there is no unsandboxed fallback.

One KernelPool per worker process, created after the fork (Celery's worker_process_init) or
lazily on the first task, and shut down with the process.
"""

import logging
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from mlrange.labs import registry
from mlrange.labs.models import Submission
from mlrange.labs.services import Outcome, learner_lab_seed
from mlrange.sandbox import (
    ArtifactSpec,
    ExecutionResult,
    GraderError,
    KernelPool,
    SandboxConfig,
    SandboxLimits,
    SandboxUnavailableError,
    ServiceSpec,
    run_grader,
    sandbox_check,
)

logger = logging.getLogger(__name__)

_pools: dict[str, KernelPool] = {}
_pool_lock = threading.Lock()


def sandbox_problem() -> str | None:
    """Why labs cannot run on this host, in words an operator can act on; None when they can.

    Cheap enough for every request; the worker also runs the full `sandbox_check` before its pool starts.
    """
    if shutil.which("bwrap") is None:
        return (
            "Labs are unavailable: the sandbox (bubblewrap) is not installed on this server, and "
            "MLRange never runs learner code without it. An administrator must install it: "
            "apt-get install bubblewrap."
        )
    if not (settings.SANDBOX_RUNTIME / "bin" / "python").exists():
        return (
            f"Labs are unavailable: the sandbox runtime is missing at {settings.SANDBOX_RUNTIME}. "
            "An administrator must build it with `make runtime`."
        )
    return None


def sandbox_config(*, limits: SandboxLimits | None = None, kernel: str = "torch") -> SandboxConfig:
    return SandboxConfig(
        runtime=settings.SANDBOX_RUNTIME,
        run_dir=settings.SANDBOX_RUN_DIR,
        ro_mounts={"/lab-assets": registry.public_assets_root()},
        limits=limits
        or SandboxLimits(
            wall_timeout_s=settings.SANDBOX_EXEC_TIMEOUT,
            memory_mb=settings.SANDBOX_MEMORY_MB,
            output_limit_bytes=settings.SANDBOX_OUTPUT_LIMIT,
        ),
        preload=settings.SANDBOX_LIGHT_PRELOAD if kernel == "light" else settings.SANDBOX_PRELOAD,
        lab_services=True,
    )


def lab_service_specs(
    spec: registry.LabSpec,
    variant: dict[str, Any],
    *,
    grader_dir: Path,
    hidden_dir: Path,
    limits: SandboxLimits,
) -> list[ServiceSpec]:
    """The lab's services for one execution: each runs its installed script (a grader module)
    in its own jail with the lab's hidden assets read-only at /lab/hidden and the learner's
    variant in its params; the kernel never sees either."""
    return [
        ServiceSpec(
            name=service.name,
            script=grader_dir / service.script.name,
            ro_mounts={"/lab/hidden": hidden_dir},
            limits=limits,
            params={"variant": variant},
        )
        for service in spec.services
    ]


def get_pool(kernel: str = "torch") -> KernelPool:
    """This worker process's warm pool for a kernel profile ("torch" or "light"), started on first use."""
    with _pool_lock:
        pool = _pools.get(kernel)
        if pool is None:
            config = sandbox_config(kernel=kernel)
            # Refuse, with the reason, rather than start kernels that cannot be confined.
            sandbox_check(config)
            pool = KernelPool(config, size=settings.SANDBOX_POOL_SIZE)
            pool.start()
            _pools[kernel] = pool
        return pool


def shutdown_pool() -> None:
    with _pool_lock:
        for pool in _pools.values():
            pool.shutdown()
        _pools.clear()


_EXEC_MESSAGES = {
    "timeout": "Your code ran past the time limit ({limit:.0f} s) and was stopped. Look for an endless loop, "
    "or do less work (fewer iterations, a smaller batch).",
    "crashed": "The Python kernel running your code died (it was killed or ran out of memory: the limit is "
    "{memory} MB). Use less memory, or look for code that ends the process.",
    "output_limit": "Your code printed more than the output limit ({output:,} bytes) and was stopped. "
    "Print less (summaries instead of whole arrays).",
}


def _exec_message(result: ExecutionResult, limits: SandboxLimits) -> str:
    template = _EXEC_MESSAGES.get(result.status, "")
    return template.format(
        limit=limits.wall_timeout_s, memory=limits.memory_mb, output=limits.output_limit_bytes
    )


def _error_summary(result: ExecutionResult) -> str:
    for output in result.outputs:
        if output.get("type") == "error":
            return f"Your code raised {output.get('ename')}: {output.get('evalue')}"
    return "Your code raised an error."


def _execution_outcome(result: ExecutionResult, limits: SandboxLimits, *, grade: bool) -> Outcome | None:
    """The final outcome when execution alone decides it; None when the grader must run."""
    outputs = result.outputs
    seconds = round(result.duration_s, 3)
    if result.status == "timeout":
        return Outcome(
            Submission.Status.TIMED_OUT, _exec_message(result, limits), outputs, execution_seconds=seconds
        )
    if result.status in ("crashed", "output_limit"):
        return Outcome(
            Submission.Status.ERROR, _exec_message(result, limits), outputs, execution_seconds=seconds
        )
    if grade:
        return None
    if result.status == "error":
        return Outcome(Submission.Status.ERROR, _error_summary(result), outputs, execution_seconds=seconds)
    return Outcome(
        Submission.Status.COMPLETED, "Your code ran to the end.", outputs, execution_seconds=seconds
    )


def run_submission(submission: Submission) -> Outcome:
    """Execute (and, in grade mode, grade) one submission. Raises only on platform faults."""
    spec = registry.get_lab(submission.lab.slug)
    seed = learner_lab_seed(learner_id=submission.learner_id, lab_slug=spec.slug)
    variant = registry.lab_variant(spec, seed)
    grade = submission.mode == Submission.Mode.GRADE
    limits = SandboxLimits(
        # The operator may tighten, never loosen, a lab's own limit.
        wall_timeout_s=min(float(spec.limits.wall_timeout_s), settings.SANDBOX_EXEC_TIMEOUT),
        memory_mb=int(spec.limits.memory_mb),
        output_limit_bytes=settings.SANDBOX_OUTPUT_LIMIT,
    )
    services = lab_service_specs(
        spec,
        variant,
        grader_dir=registry.grader_dir(spec.slug),
        hidden_dir=registry.hidden_assets_dir(spec.slug),
        limits=limits,
    )
    try:
        result = get_pool(spec.kernel).execute(
            [registry.setup_cell_source(spec, variant), *submission.cells],
            artifacts=[ArtifactSpec(a.name, a.max_bytes) for a in spec.artifacts] if grade else [],
            timeout=limits.wall_timeout_s,
            services=services,
        )
    except SandboxUnavailableError as exc:
        logger.error("sandbox unavailable for submission %s: %s", submission.pk, exc)
        return Outcome(
            status=Submission.Status.ERROR,
            message="Labs are unavailable on this server right now (the sandbox could not start); "
            "nothing of your code ran. Please try again later.",
        )
    finished = _execution_outcome(result, limits, grade=grade)
    if finished is not None:
        return finished
    outputs = result.outputs
    exec_seconds = round(result.duration_s, 3)
    prefix = (
        f"{_error_summary(result)} Grading what it wrote before the error. "
        if result.status == "error"
        else ""
    )
    artifact_notes = [f"{name}: {why}" for name, why in sorted(result.artifact_errors.items())]
    grading_started = time.monotonic()
    try:
        report = run_grader(
            sandbox_config(),
            grader_dir=registry.grader_dir(spec.slug),
            public_dir=registry.public_assets_root() / spec.slug,
            hidden_dir=registry.hidden_assets_dir(spec.slug),
            artifacts=registry.grader_inputs(submission.cells, result.artifacts, result.service_reports),
            params={"variant": variant, "grader_seed": secrets.randbelow(2**31)},
            timeout=float(spec.limits.grader_timeout_s),
        )
    except GraderError as exc:
        logger.error("grader of %s failed on submission %s: %s", spec.slug, submission.pk, exc.details)
        return Outcome(
            Submission.Status.ERROR,
            "The grader failed on this submission (our fault, and it has been logged). Please submit again.",
            outputs,
            execution_seconds=exec_seconds,
        )
    checked = validate_grader_report(report)
    passed = bool(checked["passed"])
    summary = "Passed." if passed else "Not passed yet: see the checks below for what to fix."
    if artifact_notes:
        summary += " Refused artifacts: " + "; ".join(artifact_notes) + "."
    return Outcome(
        status=Submission.Status.PASSED if passed else Submission.Status.FAILED,
        message=prefix + summary,
        outputs=outputs,
        score=float(checked["score"]),
        passed=passed,
        checks=checked["checks"],
        metrics=checked["metrics"],
        execution_seconds=exec_seconds,
        grading_seconds=round(time.monotonic() - grading_started, 3),
    )


def validate_grader_report(report: dict[str, Any]) -> dict[str, Any]:
    """A grader's report in the shape the platform stores, or GraderError if it is malformed."""
    try:
        score = float(report["score"])
        if not 0.0 <= score <= 100.0:
            raise ValueError(f"score {score} outside 0..100")
        checks = [
            {
                "id": str(c["id"]),
                "title": str(c["title"]),
                "passed": bool(c["passed"]),
                "points": float(c["points"]),
                "max_points": float(c["max_points"]),
                "feedback": str(c.get("feedback", "")),
            }
            for c in report["checks"]
        ]
        metrics = {str(k): float(v) for k, v in dict(report.get("metrics", {})).items()}
        return {
            "score": score,
            "passed": bool(report["passed"]),
            "checks": checks,
            "metrics": metrics,
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise GraderError(f"grader report malformed: {exc}") from exc
