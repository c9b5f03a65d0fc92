"""Follows labs and assessments: a graded lab or a closed quiz may owe an LMS gradebook a score."""

from typing import Any

from mlrange.assessments.signals import attempt_finished
from mlrange.labs.signals import submission_finished


def _on_submission_finished(*, submission_id: str, **_: Any) -> None:
    from mlrange.labs.models import Submission
    from mlrange.lti.models import LtiAccount
    from mlrange.lti.tasks import scores_queue_task

    row = (
        Submission.objects.filter(pk=submission_id, mode=Submission.Mode.GRADE, score__isnull=False)
        .values_list("learner_id", "lab__slug")
        .first()
    )
    if row is None or not LtiAccount.objects.filter(user_id=row[0]).exists():
        return
    scores_queue_task.delay(user_id=row[0], target="lab", slug=row[1])


def _on_attempt_finished(*, attempt_id: int, **_: Any) -> None:
    from mlrange.assessments.models import Attempt
    from mlrange.lti.models import LtiAccount
    from mlrange.lti.tasks import scores_queue_task

    row = Attempt.objects.filter(pk=attempt_id).values_list("learner_id", "quiz__slug").first()
    if row is None or not LtiAccount.objects.filter(user_id=row[0]).exists():
        return
    scores_queue_task.delay(user_id=row[0], target="quiz", slug=row[1])


def connect() -> None:
    submission_finished.connect(_on_submission_finished, dispatch_uid="lti-submission-finished")
    attempt_finished.connect(_on_attempt_finished, dispatch_uid="lti-attempt-finished")
