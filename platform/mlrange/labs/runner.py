"""Runs a submission: the learner's cells in a warm sandboxed kernel, then the trusted grader
in its own sandbox. The only path from the platform to learner code, and it goes through
mlrange.sandbox: there is no unsandboxed fallback.

One KernelPool per worker process, created after the fork (Celery's worker_process_init) or
lazily on the first task, and shut down with the process.
"""

import dataclasses
import json
import logging
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from mlrange.labs import registry
from mlrange.labs.meters import MeterGrant, learner_lab_seed, meter_reserve, meter_settle
from mlrange.labs.models import Submission
from mlrange.labs.outcomes import Outcome
from mlrange.labs.scoring import ReportError, score_report
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
from mlrange.sandbox.cgroups import cgroup_problem

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
    if settings.SANDBOX_ISOLATION not in ISOLATION_MODES:
        return (
            f"Labs are unavailable: MLRANGE_SANDBOX_ISOLATION is {settings.SANDBOX_ISOLATION!r}; "
            f"it must be one of {', '.join(ISOLATION_MODES)}."
        )
    if settings.SANDBOX_ISOLATION == "cgroup":
        problem = cgroup_problem()
        if problem is not None:
            return (
                f"Labs are unavailable: one learner's run could exhaust this server, because there is "
                f"{problem}. An administrator must run the worker where it can create cgroups, or "
                "set MLRANGE_SANDBOX_ISOLATION=single-user on a machine with a single learner."
            )
    return None


ISOLATION_MODES = ("cgroup", "single-user")


def labs_problem() -> str | None:
    """Why labs cannot run, as the workers see it: workers may run on other machines than the
    web, so their recent heartbeats decide (labs run when any worker says they can); with no
    worker heard from, this host's own check."""
    from mlrange.ops.models import WorkerHeartbeat  # ops reads labs; imported late, no cycle
    from mlrange.ops.services import HEARTBEAT_FRESH

    since = timezone.now() - HEARTBEAT_FRESH
    problems = list(
        WorkerHeartbeat.objects.filter(last_seen__gte=since).values_list("sandbox_problem", flat=True)
    )
    if not problems:
        return sandbox_problem()
    if any(not problem for problem in problems):
        return None
    return problems[0]


def isolation_mode() -> dict[str, str]:
    """Which isolation runs labs here, for the health endpoint and the lab pages."""
    if settings.SANDBOX_ISOLATION == "single-user":
        return {
            "mode": "single-user",
            "description": "Single-user mode: each process of a run is limited, but not the run as a "
            "whole. Meant for a machine with one learner.",
        }
    return {
        "mode": "cgroup",
        "description": "Each run has its own memory, process and CPU limits (a cgroup), so one "
        "learner's run cannot starve another's.",
    }


def sandbox_config(*, limits: SandboxLimits | None = None, kernel: str = "torch") -> SandboxConfig:
    """The worker's sandbox config for a kernel profile; ``limits`` default to the ceilings."""
    return SandboxConfig(
        runtime=settings.SANDBOX_RUNTIME,
        run_dir=settings.SANDBOX_RUN_DIR,
        ro_mounts={"/lab-assets": registry.public_assets_root()},
        limits=limits or ceiling_limits(),
        preload=settings.SANDBOX_LIGHT_PRELOAD if kernel == "light" else settings.SANDBOX_PRELOAD,
        lab_services=True,
        isolation=settings.SANDBOX_ISOLATION,
        kernel_template=settings.SANDBOX_KERNEL_TEMPLATE and settings.SANDBOX_ISOLATION == "cgroup",
    )


def ceiling_limits() -> SandboxLimits:
    """The operator's ceilings: what a warm kernel waits under, and no lab may exceed."""
    return SandboxLimits(
        wall_timeout_s=settings.SANDBOX_EXEC_TIMEOUT,
        memory_mb=settings.SANDBOX_MEMORY_MB,
        max_processes=settings.SANDBOX_MAX_PROCESSES,
        cpu_cores=settings.SANDBOX_CPU_CORES,
        output_limit_bytes=settings.SANDBOX_OUTPUT_LIMIT,
    )


def lab_limits(spec: registry.LabSpec) -> SandboxLimits:
    """One execution of ``spec``: its manifest's wall and memory limits, the operator may tighten
    them, never loosen; CPU time per process is derived from the wall limit (never below it)."""
    ceiling = ceiling_limits()
    return dataclasses.replace(
        ceiling,
        wall_timeout_s=min(float(spec.limits.wall_timeout_s), ceiling.wall_timeout_s),
        memory_mb=min(int(spec.limits.memory_mb), ceiling.memory_mb),
    )


def grader_limits(spec: registry.LabSpec) -> SandboxLimits:
    """The grader's own sandbox: the lab's memory (it calls learner functions), its own timeout."""
    return dataclasses.replace(lab_limits(spec), wall_timeout_s=float(spec.limits.grader_timeout_s))


def queued_submissions() -> int:
    """Submissions waiting for a worker: how many kernels are about to be needed."""
    return Submission.objects.filter(status=Submission.Status.QUEUED).count()


def lab_service_specs(
    spec: registry.LabSpec,
    variant: dict[str, Any],
    *,
    grader_dir: Path,
    hidden_dir: Path,
    limits: SandboxLimits,
    extra_params: dict[str, dict[str, Any]] | None = None,
) -> list[ServiceSpec]:
    """The lab's services for one execution: each runs its installed script (a grader module)
    in its own jail with the lab's hidden assets read-only at /lab/hidden and the learner's
    variant (and ``extra_params[name]``, e.g. its meter) in its params; the kernel never sees
    either."""
    extra_params = extra_params or {}
    return [
        ServiceSpec(
            name=service.name,
            script=grader_dir / service.script.name,
            ro_mounts={"/lab/hidden": hidden_dir},
            limits=limits,
            params={"variant": variant, **extra_params.get(service.name, {})},
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
            pool = KernelPool(config, size=settings.SANDBOX_POOL_SIZE, max_size=settings.SANDBOX_POOL_MAX)
            pool.start()
            _pools[kernel] = pool
        return pool


def pool_stats() -> dict[str, dict[str, Any]]:
    """This worker process's pools, per kernel profile (ready kernels, starts, template)."""
    with _pool_lock:
        pools = dict(_pools)
    return {kernel: pool.stats() for kernel, pool in pools.items()}


def shutdown_pool() -> None:
    with _pool_lock:
        for pool in _pools.values():
            pool.shutdown()
        _pools.clear()


_EXEC_MESSAGES = {
    "timeout": "Your code ran past the time limit ({limit:.0f} s) and was stopped. Look for an endless loop, "
    "or do less work (fewer iterations, a smaller batch).",
    "crashed": "The Python kernel running your code died (it was killed, or crashed). Look for code that "
    "ends the process.",
    "memory": "Your code used more than this lab's memory limit ({memory} MB, counting every process it "
    "started and the files it wrote to /tmp, the work folder and /dev/shm) and was stopped. Use smaller "
    "arrays or batches, and free what you no longer need.",
    "output_limit": "Your code printed more than the output limit ({output:,} bytes), or sent one message "
    "over {message:,} bytes, and was stopped. Print less (summaries instead of whole arrays).",
}


def _exec_message(result: ExecutionResult, limits: SandboxLimits) -> str:
    key = "memory" if result.memory_limit_hit and result.status == "crashed" else result.status
    template = _EXEC_MESSAGES.get(key, "")
    return template.format(
        limit=limits.wall_timeout_s,
        memory=limits.memory_mb,
        output=limits.output_limit_bytes,
        message=limits.zmq_max_msg_bytes,
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
    """Execute (and, in grade mode, grade) one submission. Raises only on platform faults.

    Metered services (a query budget) get what is left of the learner's budget for this
    variant, kept across executions: reserved before the run, the unused part given back."""
    spec = registry.get_lab(submission.lab.slug)
    seed = learner_lab_seed(learner_id=submission.learner_id, lab_slug=spec.slug)
    variant = registry.lab_variant(spec, seed)
    grants: dict[str, MeterGrant] = {}
    for service in spec.services:
        if service.meter is not None:
            budget = variant.get(service.meter.budget)
            if not isinstance(budget, int) or budget < 0:
                raise RuntimeError(f"{spec.slug}: variant has no integer {service.meter.budget!r}")
            grants[service.name] = meter_reserve(
                learner_id=submission.learner_id,
                lab=submission.lab,
                service=service.name,
                variant=variant,
                budget=budget,
            )
    served: dict[str, int | None] = {}
    try:
        # Size the pool to the submissions waiting behind this one (kernels are cheap to fork).
        get_pool(spec.kernel).set_demand(queued_submissions() + 1)
        outcome = execute_lab(
            spec,
            submission.cells,
            variant=variant,
            grader_seed=secrets.randbelow(2**31),
            grade=submission.mode == Submission.Mode.GRADE,
            log_ref=str(submission.pk),
            service_params={name: {"meter": grant.params()} for name, grant in grants.items()},
        )
        served = outcome.service_usage
    finally:
        for name, grant in grants.items():
            meter_settle(grant=grant, served=served.get(name))
    return outcome


def execute_lab(
    spec: registry.LabSpec,
    cells: list[str],
    *,
    variant: dict[str, Any],
    grader_seed: int,
    grade: bool,
    log_ref: str = "",
    service_params: dict[str, dict[str, Any]] | None = None,
) -> Outcome:
    """The one execution path, for the worker, ``check_labs`` and the benchmarks alike: the lab's
    setup cell and ``cells`` in a warm kernel of the lab's profile under the lab's own limits,
    then (``grade``) the trusted grader on what they wrote, and the report validated.
    Raises only on platform faults."""
    limits = lab_limits(spec)
    services = lab_service_specs(
        spec,
        variant,
        grader_dir=registry.grader_dir(spec.slug),
        hidden_dir=registry.hidden_assets_dir(spec.slug),
        limits=limits,
        extra_params=service_params,
    )
    try:
        result = get_pool(spec.kernel).execute(
            [registry.setup_cell_source(spec, variant), *cells],
            artifacts=[ArtifactSpec(a.name, a.max_bytes) for a in spec.artifacts] if grade else [],
            services=services,
            limits=limits,
        )
    except SandboxUnavailableError as exc:
        logger.error("sandbox unavailable for %s %s: %s", spec.slug, log_ref, exc)
        return Outcome(
            status=Submission.Status.ERROR,
            message="Labs are unavailable on this server right now (the sandbox could not start); "
            "nothing of your code ran. Please try again later.",
            service_usage={service.name: 0 for service in spec.services},
        )
    usage = _service_usage(spec, result)
    finished = _execution_outcome(result, limits, grade=grade)
    if finished is not None:
        finished.service_usage = usage
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
    g_limits = grader_limits(spec)
    try:
        report = run_grader(
            sandbox_config(),
            grader_dir=registry.grader_dir(spec.slug),
            public_dir=registry.public_assets_root() / spec.slug,
            hidden_dir=registry.hidden_assets_dir(spec.slug),
            artifacts=registry.grader_inputs(cells, result.artifacts, result.service_reports),
            params={"variant": variant, "grader_seed": grader_seed},
            timeout=g_limits.wall_timeout_s,
            limits=g_limits,
        )
        checked = score_report(report, tiers=spec.tiers, pass_points=spec.pass_points)
    except (GraderError, ReportError) as exc:
        details = exc.details if isinstance(exc, GraderError) else ""
        logger.error("grader of %s failed on %s: %s %s", spec.slug, log_ref, exc, details)
        message = (
            f"Grading stopped: calling your functions used more than this lab's memory limit "
            f"({g_limits.memory_mb} MB). Use less memory in them."
            if isinstance(exc, GraderError) and exc.memory_limit_hit
            else "The grader failed on this submission (our fault, and it has been logged). "
            "Please submit again."
        )
        return Outcome(
            Submission.Status.ERROR, message, outputs, execution_seconds=exec_seconds, service_usage=usage
        )
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
        service_usage=usage,
    )


def _service_usage(spec: registry.LabSpec, result: ExecutionResult) -> dict[str, int | None]:
    """What each metered service reports it served (None: no readable report)."""
    usage: dict[str, int | None] = {}
    for service in spec.services:
        if service.meter is None:
            continue
        try:
            report = json.loads(result.service_reports[service.name])
            value = report[service.meter.used]
        except (KeyError, TypeError, ValueError):
            value = None
        usage[service.name] = value if isinstance(value, int) and not isinstance(value, bool) else None
    return usage
