"""Celery tasks of the LTI tool: they take ids and call services."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from mlrange.lti import services
from mlrange.lti.models import LtiCourse, ScoreSend, UsedNonce

MAX_TRIES = 20


@shared_task(
    bind=True,
    autoretry_for=(services.LmsUnavailableError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def score_send_task(self: object, *, send_id: int) -> bool:
    """Post one queued score; retried with backoff while the LMS is down. Idempotent."""
    return services.score_send(send_id=send_id)


@shared_task(soft_time_limit=120, time_limit=150)
def scores_queue_task(*, user_id: int, target: str, slug: str) -> list[int]:
    """Queue the learner's best score on a lab or quiz for each LMS gradebook, then send them."""
    queued = services.scores_queue(user_id=user_id, target=target, slug=slug)
    for send_id in queued:
        score_send_task.delay(send_id=send_id)
    return queued


NONCE_KEEP = timedelta(days=2)  # longer than pylti1p3 keeps a nonce it issued (one day)


@shared_task(soft_time_limit=120, time_limit=150)
def score_sends_sweep_task() -> int:
    """Re-queue outbox rows still pending a minute after they were written (the LMS was down).

    Also forgets used nonces older than NONCE_KEEP: by then the nonce MLRange issued has left
    the cache, so a replay is refused without the record.
    """
    UsedNonce.objects.filter(used_at__lt=timezone.now() - NONCE_KEEP).delete()
    stale = timezone.now() - timedelta(minutes=1)
    pending = ScoreSend.objects.filter(status=ScoreSend.Status.PENDING, created_at__lt=stale)
    pending.filter(tries__gte=MAX_TRIES).update(status=ScoreSend.Status.FAILED)
    ids = list(pending.filter(tries__lt=MAX_TRIES).values_list("pk", flat=True)[:500])
    for send_id in ids:
        score_send_task.delay(send_id=send_id)
    return len(ids)


@shared_task(
    autoretry_for=(services.LmsUnavailableError,),
    retry_backoff=60,
    max_retries=5,
    soft_time_limit=240,
    time_limit=270,
)
def roster_sync_task(*, course_id: int) -> dict[str, int]:
    """Sync one LMS course's roster into its cohort. Idempotent."""
    if not LtiCourse.objects.filter(pk=course_id).exists():
        return {}
    return services.roster_sync(course_id=course_id)
