"""Reads of mlrange.assessments: quizzes, a learner's attempts, and the views of an attempt.

`attempt_payload` is the one place that decides what a learner sees of an attempt:
while it is open, stems and option texts only (never the key, an option's `why`, the
explanation or scores); once submitted or expired, the full review.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from mlrange.accounts.models import User
from mlrange.assessments.adaptive import EXPOSURE_MIN_ATTEMPTS
from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz, SelfRating
from mlrange.assessments.selfcheck import CONFIDENCE_LABELS, self_check_questions

EXPOSURE_WINDOW = 300


def placement_exposure(*, before: Attempt) -> dict[str, float]:
    """Item key -> share of the latest placements started before `before` that served it.

    Over the last EXPOSURE_WINDOW placements; empty while there are fewer than
    EXPOSURE_MIN_ATTEMPTS of them (rates from a handful of learners would be noise)."""
    recent = list(
        Attempt.objects.filter(quiz__kind=Quiz.Kind.PLACEMENT, id__lt=before.id)
        .order_by("-id")
        .values_list("id", flat=True)[:EXPOSURE_WINDOW]
    )
    if len(recent) < EXPOSURE_MIN_ATTEMPTS:
        return {}
    served = (
        AttemptItem.objects.filter(attempt_id__in=recent)
        .values("item__key")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["item__key"]: row["n"] / len(recent) for row in served}


def quiz_list_published() -> QuerySet[Quiz]:
    return Quiz.objects.filter(is_published=True).select_related("subskill").order_by("order", "slug")


def quiz_get_published(*, slug: str) -> Quiz:
    quiz = quiz_list_published().filter(slug=slug).first()
    if quiz is None:
        raise Http404("No such quiz.")
    return quiz


def attempt_list_for_learner(*, learner: User, limit: int = 10, quiz: Quiz | None = None) -> list[Attempt]:
    attempts = Attempt.objects.filter(learner=learner)
    if quiz is not None:
        attempts = attempts.filter(quiz=quiz)
    return list(
        attempts.select_related("quiz")
        .annotate(
            n_items=Count("attempt_items"),
            n_answered=Count("attempt_items", filter=Q(attempt_items__answered_at__isnull=False)),
        )
        .order_by("-started_at", "-id")[:limit]
    )


def attempt_get_for_learner(*, attempt_id: int, learner: User) -> Attempt:
    """The learner's own attempt; anyone else's is a 404, never a 403."""
    attempt = (
        Attempt.objects.select_related("quiz", "quiz__subskill")
        .filter(pk=attempt_id, learner=learner)
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def attempt_items(*, attempt: Attempt) -> list[AttemptItem]:
    return list(
        AttemptItem.objects.filter(attempt=attempt)
        .select_related("item", "item__subskill", "item__level")
        .order_by("position")
    )


def self_check_latest(*, learner: User) -> Attempt | None:
    return (
        Attempt.objects.filter(
            learner=learner,
            quiz__kind=Quiz.Kind.SELF_CHECK,
            status__in=(Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED),
        )
        .order_by("-submitted_at", "-id")
        .first()
    )


def subskill_url(slug: str) -> str:
    try:
        return reverse("catalog:subskill", kwargs={"slug": slug})
    except NoReverseMatch:
        return f"/subskills/{slug}/"


def _options_in_attempt_order(item: Item, order: list[str]) -> list[dict[str, Any]]:
    by_id = {str(o["id"]): o for o in item.options}
    ids = order or list(by_id)
    return [by_id[i] for i in ids if i in by_id]


def _question(ai: AttemptItem) -> dict[str, Any]:
    item = ai.item
    return {
        "item": item.key,
        "position": ai.position,
        "type": item.type,
        "subskill": item.subskill.slug,
        "subskill_name": item.subskill.name,
        "stem": item.stem,
        "options": [
            {"id": o["id"], "text": o["text"]} for o in _options_in_attempt_order(item, ai.option_order)
        ],
        "answered": ai.is_answered,
        "response": ai.response if ai.is_answered else None,
    }


def _review(ai: AttemptItem, *, withhold_key: bool) -> dict[str, Any]:
    """One reviewed question. A withheld key (placement) shows the question and the learner's
    own answer only: no key, no per-option why, no score, no explanation (see Item.pool)."""
    item = ai.item
    if withhold_key:
        return {
            **_question(ai),
            "level": item.level.slug,
            "level_name": item.level.name,
            "key_withheld": True,
            "answer": None,
            "score": None,
            "explanation": "",
            "references": [],
            "tags": item.tags,
        }
    key = item.answer
    correct_ids = set()
    if item.type == Item.Type.SINGLE:
        correct_ids = {key}
    elif item.type == Item.Type.MULTIPLE:
        correct_ids = set(key)
    return {
        **_question(ai),
        "level": item.level.slug,
        "level_name": item.level.name,
        "key_withheld": False,
        "options": [
            {
                "id": o["id"],
                "text": o["text"],
                "why": o["why"],
                "is_correct": o["id"] in correct_ids,
                "correct_position": (key.index(o["id"]) + 1) if item.type == Item.Type.ORDERING else None,
            }
            for o in _options_in_attempt_order(item, ai.option_order)
        ],
        "answer": key,
        "score": ai.score,
        "explanation": item.explanation,
        "references": item.references,
        "tags": item.tags,
    }


def attempt_payload(*, attempt: Attempt) -> dict[str, Any]:
    """What the learner may see of this attempt now (see the module docstring)."""
    rows = attempt_items(attempt=attempt)
    is_open = attempt.is_open
    payload: dict[str, Any] = {
        "id": attempt.pk,
        "quiz": {"slug": attempt.quiz.slug, "title": attempt.quiz.title, "kind": attempt.quiz.kind},
        "status": attempt.status,
        "started_at": attempt.started_at,
        "submitted_at": attempt.submitted_at,
        "deadline": attempt.deadline,
        "progress": {
            "served": len(rows),
            "answered": sum(1 for r in rows if r.is_answered),
            "finished": all(r.is_answered for r in rows) if is_open else True,
        },
        "questions": [_question(r) for r in rows] if is_open else [],
    }
    if attempt.quiz.kind == Quiz.Kind.SELF_CHECK:
        ratings = {r.question_key: r.confidence for r in SelfRating.objects.filter(attempt=attempt)}
        payload["self_check"] = [
            {
                "question": q.key,
                "text": q.text,
                "subskills": list(q.subskills),
                "confidence": ratings.get(q.key),
            }
            for q in self_check_questions()
        ]
        payload["confidence_scale"] = [{"value": k, "label": v} for k, v in CONFIDENCE_LABELS.items()]
    if not is_open:
        # Placement keys are never shown: the same items place every learner after this one.
        withhold = attempt.quiz.kind == Quiz.Kind.PLACEMENT
        payload["review"] = [
            _review(r, withhold_key=withhold or r.item.pool == Item.Pool.PLACEMENT) for r in rows
        ]
        payload["results"] = attempt.results
    return payload


def current_placement_question(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The one unanswered question of an open placement attempt, if any."""
    return next((q for q in payload["questions"] if not q["answered"]), None)
