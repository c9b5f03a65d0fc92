"""Reads for labs and submissions. Another learner's submission is simply not found."""

from datetime import datetime

from django.db.models import QuerySet

from mlrange.accounts.models import User
from mlrange.labs.models import Lab, Submission


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
