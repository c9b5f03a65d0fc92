"""Reads for labs and submissions. Another learner's submission is simply not found."""

import time
from datetime import datetime
from enum import StrEnum

from django.db.models import Case, CharField, Exists, Max, OuterRef, QuerySet, Subquery, Value, When

from mlrange.accounts.models import User
from mlrange.labs.models import Draft, Lab, Submission


def lab_list_active() -> QuerySet[Lab]:
    return Lab.objects.filter(is_active=True).select_related("subskill", "level")


def lab_get_active(*, slug: str) -> Lab:
    return lab_list_active().get(slug=slug)


def submission_get_for_learner(*, learner: User, submission_id: object) -> Submission:
    """The learner's own submission; raises Submission.DoesNotExist for anyone else's."""
    return Submission.objects.select_related("lab").get(pk=submission_id, learner=learner)


def submission_list_for_learner(*, learner: User, lab: Lab | None = None) -> QuerySet[Submission]:
    qs = Submission.objects.filter(learner=learner).select_related("lab")
    if lab is not None:
        qs = qs.filter(lab=lab)
    return qs.defer("cells", "outputs")


WAIT_POLL_S = 0.02
WAIT_MAX_S = 30.0


def submission_wait(
    *, learner: User, submission_id: object, timeout: float, until_final: bool = True
) -> Submission:
    """The learner's submission once it is final (or, ``until_final=False``, once its status
    differs from the one it had at the start), or as it is after ``timeout`` seconds.

    A long poll: one indexed single-column query every 20 ms while waiting, so a client is told
    the moment the worker records the result instead of polling over HTTP. Raises
    Submission.DoesNotExist for anyone else's submission.
    """
    submission = submission_get_for_learner(learner=learner, submission_id=submission_id)
    deadline = time.monotonic() + min(max(timeout, 0.0), WAIT_MAX_S)
    first_status = submission.status
    rows = Submission.objects.filter(pk=submission.pk).values_list("status", flat=True)
    while time.monotonic() < deadline:
        status = rows.first()
        if status in Submission.FINAL_STATUSES or (not until_final and status != first_status):
            break
        time.sleep(WAIT_POLL_S)
    else:
        return submission
    return submission_get_for_learner(learner=learner, submission_id=submission_id)


def submission_in_flight_count(*, learner: User) -> int:
    return Submission.objects.filter(
        learner=learner, status__in=(Submission.Status.QUEUED, Submission.Status.RUNNING)
    ).count()


def graded_submissions_since(*, learner: User, lab: Lab, since: datetime) -> list[datetime]:
    """When the learner's graded submissions of ``lab`` since ``since`` were made, oldest first."""
    return list(
        Submission.objects.filter(learner=learner, lab=lab, mode=Submission.Mode.GRADE, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )


def submission_queue_position(*, submission: Submission) -> int | None:
    """1 for the next submission a worker will take; None once it is no longer queued."""
    if submission.status != Submission.Status.QUEUED:
        return None
    ahead = Submission.objects.filter(
        status=Submission.Status.QUEUED, created_at__lt=submission.created_at
    ).count()
    return ahead + 1


def best_scores_for_learner(*, learner: User) -> dict[int, float]:
    """Best graded score per lab id, in one query."""
    from django.db.models import Max

    rows = (
        Submission.objects.filter(learner=learner, mode=Submission.Mode.GRADE, score__isnull=False)
        .values("lab_id")
        .annotate(best=Max("score"))
    )
    return {row["lab_id"]: row["best"] for row in rows}


def draft_code_for_learner(*, learner: User, lab: Lab) -> str | None:
    """The learner's saved draft of ``lab``, or None when they have none (the starter applies)."""
    return Draft.objects.filter(learner=learner, lab=lab).values_list("code", flat=True).first()


def submission_code(*, submission: Submission) -> str:
    """The code a submission ran, as one editor text (a notebook's code cells, blank-line separated)."""
    return "\n\n".join(str(cell) for cell in submission.cells)


class LabStatus(StrEnum):
    """Where a learner stands in a lab, as the lab list and `GET /api/v1/labs/` show it."""

    NOT_STARTED = "not_started"
    ATTEMPTED = "attempted"  # at least one run or graded submission, no pass yet
    PASSED = "passed"  # a graded submission passed


def lab_list_in_path_order(
    *, learner: User | None = None, subskill: str = "", level: str = ""
) -> QuerySet[Lab]:
    """Active labs in learning-path order: by sub-skill, then level (the path's stages), then the
    shorter lab first. Filtered by sub-skill and level slug when given. For a learner, each lab
    carries ``best_score`` (None before a graded score) and ``status`` (a LabStatus) from the same
    single query: no query per lab."""
    labs = lab_list_active().order_by("subskill__order", "level__order", "time_budget_minutes", "title")
    if subskill:
        labs = labs.filter(subskill__slug=subskill)
    if level:
        labs = labs.filter(level__slug=level)
    if learner is None:
        return labs
    mine = Submission.objects.filter(learner=learner, lab=OuterRef("pk"))
    graded = mine.filter(mode=Submission.Mode.GRADE)
    best = graded.filter(score__isnull=False).order_by().values("lab").annotate(best=Max("score"))
    return labs.annotate(
        best_score=Subquery(best.values("best")),
        status=Case(
            When(Exists(graded.filter(passed=True)), then=Value(LabStatus.PASSED.value)),
            When(Exists(mine), then=Value(LabStatus.ATTEMPTED.value)),
            default=Value(LabStatus.NOT_STARTED.value),
            output_field=CharField(),
        ),
    )
