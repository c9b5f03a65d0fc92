"""Writes for labs: recording submissions, claiming and finishing them, and the sweeper.

The database is the truth and the queue is a doorbell: a submission row exists before its task
is queued, the task carries only the id, a claim is a conditional update (so a second delivery
does nothing), and a finish is fenced by the delivery number (so a late worker cannot overwrite
the result of a newer delivery). The sweeper re-queues or fails whatever got stuck.
"""

import logging
from datetime import timedelta
from typing import Any

import nbformat
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.common.exceptions import (
    ApplicationError,
    RateLimitedError,
    ServiceUnavailableError,
    TooManyInFlightError,
)
from mlrange.labs import runner
from mlrange.labs.models import Draft, Lab, Submission
from mlrange.labs.outcomes import Outcome
from mlrange.labs.selectors import graded_submissions_since, submission_in_flight_count
from mlrange.labs.signals import submission_finished
from mlrange.ops import metrics
from mlrange.sandbox.cgroups import pid_alive

logger = logging.getLogger(__name__)

MAX_DELIVERIES = 2


def notebook_code_cells(*, raw: bytes) -> list[str]:
    """The code cells of an uploaded notebook, in order; a clear error for anything else."""
    if len(raw) > settings.LABS_MAX_NOTEBOOK_BYTES:
        raise ApplicationError(
            f"The notebook is {len(raw):,} bytes; the limit is {settings.LABS_MAX_NOTEBOOK_BYTES:,}. "
            "Clear its outputs (Kernel > Restart & Clear Output) and upload it again."
        )
    try:
        text = raw.decode("utf-8")
        notebook = nbformat.reads(text, as_version=4)
    except UnicodeDecodeError as exc:
        raise ApplicationError("The notebook is not UTF-8 text; upload the .ipynb file itself.") from exc
    except Exception as exc:  # nbformat raises several unrelated types for unreadable input
        raise ApplicationError(f"This is not a Jupyter notebook (.ipynb): {exc}") from exc
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise ApplicationError(f"The notebook does not follow the nbformat 4 schema: {exc.message}") from exc
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    if not cells:
        raise ApplicationError("The notebook has no code cells to run.")
    return cells


def _check_code_size(cells: list[str]) -> None:
    size = sum(len(c.encode()) for c in cells)
    if size > settings.LABS_MAX_CODE_BYTES:
        raise ApplicationError(
            f"The code is {size:,} bytes; the limit is {settings.LABS_MAX_CODE_BYTES:,}. "
            "Load data from the lab's assets instead of pasting it into the code."
        )


@transaction.atomic
def submission_create(
    *,
    learner: User,
    lab: Lab,
    mode: str,
    code: str | None = None,
    notebook: bytes | None = None,
    notebook_name: str = "",
) -> Submission:
    """Record a submission, then queue it once the row is committed."""
    from mlrange.labs.tasks import submission_execute_task

    if mode not in Submission.Mode.values:
        raise ApplicationError(f"mode must be one of {', '.join(Submission.Mode.values)}, not {mode!r}.")
    if (code is None) == (notebook is None):
        raise ApplicationError("Send either `code` (Python source) or `notebook` (an .ipynb file), not both.")
    if notebook is not None:
        cells = notebook_code_cells(raw=notebook)
        source = Submission.Source.NOTEBOOK
    else:
        if code is None or not code.strip():
            raise ApplicationError("The code is empty: write some Python to run.")
        cells = [code]
        source = Submission.Source.EDITOR
    _check_code_size(cells)
    problem = runner.labs_problem()
    if problem:
        raise ServiceUnavailableError(problem)
    # Lock the learner row so that two simultaneous requests cannot both pass the in-flight check.
    User.objects.select_for_update().only("pk").get(pk=learner.pk)
    in_flight = submission_in_flight_count(learner=learner)
    if in_flight >= settings.LABS_MAX_IN_FLIGHT:
        raise TooManyInFlightError(
            f"You already have {in_flight} runs in progress (the limit is {settings.LABS_MAX_IN_FLIGHT}); "
            "wait for one to finish, then submit again."
        )
    if mode == Submission.Mode.GRADE:
        _check_grading_allowance(learner=learner, lab=lab)
    submission = Submission.objects.create(
        learner=learner,
        lab=lab,
        mode=mode,
        cells=cells,
        source=source,
        notebook_name=notebook_name[:200],
    )
    submission_id = str(submission.pk)
    transaction.on_commit(lambda: submission_execute_task.delay(submission_id=submission_id))
    return submission


GRADING_WINDOW = timedelta(hours=1)


def _check_grading_allowance(*, learner: User, lab: Lab) -> None:
    """At most LABS_GRADES_PER_HOUR graded submissions per learner and lab in a sliding hour.

    Every graded report says a little about the held-out data (which checks pass); bounding how
    many a learner gets bounds what can be learnt about it. Scratch runs are not counted."""
    allowance = settings.LABS_GRADES_PER_HOUR
    now = timezone.now()
    recent = graded_submissions_since(learner=learner, lab=lab, since=now - GRADING_WINDOW)
    if len(recent) < allowance:
        return
    frees_at = recent[len(recent) - allowance] + GRADING_WINDOW
    retry_after = max(int((frees_at - now).total_seconds()) + 1, 1)
    raise RateLimitedError(
        f"You have submitted this lab for grading {len(recent)} times in the last hour (the limit is "
        f"{allowance}). Try again in {retry_after // 60} min {retry_after % 60} s; meanwhile, use Run "
        "(scratch runs are not limited this way) to test your code.",
        retry_after_s=retry_after,
    )


def submission_claim(*, submission_id: str, worker: str) -> int | None:
    """Move a queued submission to running; returns the delivery number, or None if not ours to run."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED).update(
            status=Submission.Status.RUNNING,
            started_at=now,
            deadline_at=now + timedelta(seconds=settings.LABS_SUBMISSION_DEADLINE),
            deliveries=F("deliveries") + 1,
            worker=worker[:200],
        )
        if not claimed:
            return None
        return Submission.objects.values_list("deliveries", flat=True).get(pk=submission_id)


def submission_finish(*, submission_id: str, delivery: int, outcome: Outcome) -> bool:
    """Record the final state, unless a newer delivery owns the submission now. Idempotent."""
    updated = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.RUNNING, deliveries=delivery
    ).update(
        status=outcome.status,
        message=outcome.message,
        outputs=outcome.outputs,
        score=outcome.score,
        passed=outcome.passed,
        checks=outcome.checks,
        metrics=outcome.metrics,
        execution_seconds=outcome.execution_seconds,
        grading_seconds=outcome.grading_seconds,
        finished_at=timezone.now(),
    )
    if updated:
        _record_finished(
            submission_id=submission_id,
            status=outcome.status,
            execution_seconds=outcome.execution_seconds,
            grading_seconds=outcome.grading_seconds,
        )
        transaction.on_commit(
            lambda: submission_finished.send(sender=Submission, submission_id=submission_id)
        )
    return updated == 1


def _record_finished(
    *,
    submission_id: str,
    status: str,
    execution_seconds: float | None = None,
    grading_seconds: float | None = None,
) -> None:
    """Count a submission that this process has just finalised (its fenced update matched)."""
    row = Submission.objects.filter(pk=submission_id).values_list("lab__slug", "mode").first()
    if row is not None:
        metrics.submission_finished(
            lab=row[0],
            mode=row[1],
            status=status,
            execution_seconds=execution_seconds,
            grading_seconds=grading_seconds,
        )


WORKER_LOST_TWICE = (
    "The worker process running your code stopped twice before it finished (it was killed or "
    "hung), so it was not run a third time (to protect other learners' runs). If your code uses a "
    "lot of memory, processes or output, reduce that and submit again; otherwise this is a "
    "platform problem: please try later."
)


def worker_id(*, host: str, pid: int) -> str:
    """How a claim records who runs a submission: ``host:pid`` of the worker process."""
    return f"{host}:{pid}"


def submission_take_over_lost(*, submission_id: str, worker: str) -> int | None:
    """A redelivered submission whose worker process died mid-run (same host, pid gone): take
    it over once more, or finalise it as failed after MAX_DELIVERIES. Returns the new delivery
    number, or None when there is nothing to run (not running, or its worker may be alive)."""
    row = (
        Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING)
        .values("worker", "deliveries")
        .first()
    )
    if row is None:
        return None
    holder, deliveries = str(row["worker"]), int(row["deliveries"])
    holder_host, _, holder_pid = holder.rpartition(":")
    host = worker.rpartition(":")[0]
    if holder_host != host or not holder_pid.isdigit() or pid_alive(int(holder_pid)):
        return None  # another host's worker: the sweeper decides at the deadline
    same_delivery = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.RUNNING, deliveries=deliveries, worker=holder
    )
    now = timezone.now()
    if deliveries >= MAX_DELIVERIES:
        if same_delivery.update(status=Submission.Status.ERROR, message=WORKER_LOST_TWICE, finished_at=now):
            _record_finished(submission_id=submission_id, status=Submission.Status.ERROR)
            logger.warning(
                "submission %s lost its worker %d times; failed",
                submission_id,
                deliveries,
                extra={"submission_id": submission_id},
            )
        return None
    taken = same_delivery.update(
        started_at=now,
        deadline_at=now + timedelta(seconds=settings.LABS_SUBMISSION_DEADLINE),
        deliveries=F("deliveries") + 1,
        worker=worker[:200],
    )
    if not taken:
        return None
    logger.warning(
        "submission %s: its worker %s died mid-run; running it once more",
        submission_id,
        holder,
        extra={"submission_id": submission_id},
    )
    return deliveries + 1


def submission_execute(*, submission_id: str, worker: str) -> None:
    """Claim, run in the sandbox, grade, record. Running it twice changes nothing more.

    A redelivery after the worker process died mid-run (Celery requeues it: late ack, reject on
    worker lost) is taken over at once, at most MAX_DELIVERIES deliveries in all."""
    delivery = submission_claim(submission_id=submission_id, worker=worker)
    if delivery is None:
        delivery = submission_take_over_lost(submission_id=submission_id, worker=worker)
    if delivery is None:
        logger.info(
            "submission %s not queued any more; nothing to do",
            submission_id,
            extra={"submission_id": submission_id},
        )
        return
    submission = Submission.objects.select_related("lab").get(pk=submission_id)
    try:
        outcome = runner.run_submission(submission)
    except Exception:
        logger.exception(
            "submission %s failed inside the platform", submission_id, extra={"submission_id": submission_id}
        )
        outcome = Outcome(
            status=Submission.Status.ERROR,
            message="MLRange failed while running your code (our fault, and it has been logged). "
            "Please submit again.",
        )
    submission_finish(submission_id=submission_id, delivery=delivery, outcome=outcome)
    logger.info(
        "submission %s finished: %s",
        submission_id,
        outcome.status,
        extra={"submission_id": submission_id, "status": outcome.status, "worker": worker},
    )


def submissions_sweep(*, now: Any = None, queued_grace_seconds: int = 120) -> dict[str, int]:
    """Re-queue or fail submissions that a dead worker or a lost message left behind.

    - running past its deadline: the worker died mid-run. Re-queue it once more; after
      MAX_DELIVERIES deliveries, fail it with a message.
    - queued for longer than the grace period: the broker may have lost the message (a restart
      of a broker that keeps nothing on disk). Ring the doorbell again; a duplicate delivery is
      harmless because claiming is conditional.
    """
    from mlrange.labs.tasks import submission_execute_task

    now = now or timezone.now()
    stuck = Submission.objects.filter(status=Submission.Status.RUNNING, deadline_at__lt=now)
    failed = 0
    # One fenced update per row (few: each is a worker lost twice), so that each one counted
    # in the metrics is one this sweep finalised.
    for pk in list(stuck.filter(deliveries__gte=MAX_DELIVERIES).values_list("pk", flat=True)):
        if stuck.filter(pk=pk, deliveries__gte=MAX_DELIVERIES).update(
            status=Submission.Status.ERROR,
            finished_at=now,
            message=WORKER_LOST_TWICE,
        ):
            failed += 1
            _record_finished(submission_id=str(pk), status=Submission.Status.ERROR)
    requeue_ids = list(stuck.filter(deliveries__lt=MAX_DELIVERIES).values_list("pk", flat=True))
    requeued = Submission.objects.filter(pk__in=requeue_ids, status=Submission.Status.RUNNING).update(
        status=Submission.Status.QUEUED, queued_at=now, started_at=None, deadline_at=None
    )
    lost_ids = list(
        Submission.objects.filter(
            status=Submission.Status.QUEUED,
            queued_at__lt=now - timedelta(seconds=queued_grace_seconds),
        ).values_list("pk", flat=True)
    )
    for pk in {*requeue_ids, *lost_ids}:
        submission_execute_task.delay(submission_id=str(pk))
    Submission.objects.filter(pk__in=lost_ids).update(queued_at=now)
    return {"failed": failed, "requeued": requeued, "redelivered": len(lost_ids)}


def draft_save(*, learner: User, lab: Lab, code: str) -> Draft:
    """Keep the learner's code for ``lab`` (one draft per learner and lab; the last save wins)."""
    _check_code_size([code])
    draft, _ = Draft.objects.update_or_create(learner=learner, lab=lab, defaults={"code": code})
    return draft


def draft_discard(*, learner: User, lab: Lab) -> None:
    """Forget the learner's draft of ``lab``: the editor opens on the starter code again. Idempotent."""
    Draft.objects.filter(learner=learner, lab=lab).delete()
