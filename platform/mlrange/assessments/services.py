"""Writes of mlrange.assessments: quizzes, starting, answering, submitting and expiring attempts.

All scoring happens here, server-side. Every write runs in one transaction and locks the
attempt row (select_for_update), and AttemptItem/SelfRating unique constraints make sure
nothing is recorded twice even under concurrent requests.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from mlrange.accounts.models import User
from mlrange.assessments.adaptive import BankItem, PlacementSettings, PlacementState, placement_estimates
from mlrange.assessments.irt import LEVEL_BANDS, Observation, estimate
from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz, SelfRating
from mlrange.assessments.scoring import ResponseError, normalize_response, score_response
from mlrange.assessments.selectors import placement_exposure, subskill_url
from mlrange.assessments.selfcheck import self_assessed_levels, self_check_questions
from mlrange.assessments.signals import attempt_finished
from mlrange.catalog.models import Level, SubSkill
from mlrange.common.exceptions import ApplicationError

PRACTICE_ITEM_COUNT = 10
QUICK_QUIZ_SOURCE_PREFIX = "quick-quiz-"
LEVEL_ORDER = [band.slug for band in LEVEL_BANDS]


class AttemptConflictError(ApplicationError):
    """The attempt is already in the state the request would move it to."""

    status_code = status.HTTP_409_CONFLICT


@dataclass(frozen=True)
class AnswerOutcome:
    attempt_item: AttemptItem
    next_item: AttemptItem | None
    finished: bool


# --- quizzes -----------------------------------------------------------------------------


@transaction.atomic
def quiz_catalog_sync() -> int:
    """Create the standard quizzes that are missing. Idempotent; never edits existing ones.

    Returns how many were created.
    """
    wanted: list[dict[str, Any]] = [
        {
            "slug": "self-check",
            "kind": Quiz.Kind.SELF_CHECK,
            "title": "Self-check",
            "description": "Rate how confidently you can answer the guide's eight self-check "
            "questions: a quick self-assessed level per sub-skill.",
            "order": 0,
        },
        {
            "slug": "placement",
            "kind": Quiz.Kind.PLACEMENT,
            "title": "Placement test",
            "description": "An adaptive test over all five sub-skills: each answer picks the "
            "next question, and it stops as soon as your level is clear.",
            "settings": PlacementSettings().as_mapping(),
            "order": 1,
        },
        {
            "slug": "quick-quiz",
            "kind": Quiz.Kind.QUICK_QUIZ,
            "title": "Quick quiz",
            "description": "The guide's three quick-quiz questions.",
            "order": 2,
        },
    ]
    for subskill in SubSkill.objects.all():
        wanted.append(
            {
                "slug": f"practice-{subskill.slug}",
                "kind": Quiz.Kind.PRACTICE,
                "title": f"Practice: {subskill.name}",
                "description": f"{PRACTICE_ITEM_COUNT} questions on {subskill.name} from every "
                "level, each reviewed with its answer; a retake brings the ones you have not seen.",
                "subskill": subskill,
                "settings": {"item_count": PRACTICE_ITEM_COUNT},
                "order": 10 + subskill.order,
            }
        )
    existing = set(Quiz.objects.values_list("slug", flat=True))
    missing = [Quiz(**spec) for spec in wanted if spec["slug"] not in existing]
    Quiz.objects.bulk_create(missing)
    return len(missing)


# --- starting ----------------------------------------------------------------------------


def _option_order(item: Item, seed: int) -> list[str]:
    order = item.option_ids
    random.Random(f"{seed}:options:{item.key}").shuffle(order)  # noqa: S311 -- seeded for a reproducible attempt; not security-relevant
    return order


def _practice_items(quiz: Quiz, learner: User, rng: random.Random) -> list[Item]:
    """item_count random active practice items of the sub-skill, stratified over the levels.

    A retake draws the items this learner has seen least often first (never-seen ones
    before any repeat), so that retakes meet other questions while the pool allows.
    """
    count = int(quiz.settings.get("item_count", PRACTICE_ITEM_COUNT))
    seen = Counter(
        AttemptItem.objects.filter(
            attempt__learner=learner, attempt__quiz__kind=Quiz.Kind.PRACTICE, item__subskill=quiz.subskill
        ).values_list("item_id", flat=True)
    )
    pools: dict[str, list[Item]] = {}
    items = Item.objects.filter(subskill=quiz.subskill, is_active=True, pool=Item.Pool.PRACTICE)
    for item in items.select_related("level"):
        pools.setdefault(item.level.slug, []).append(item)
    for pool in pools.values():
        pool.sort(key=lambda i: i.key)
        rng.shuffle(pool)
        pool.sort(key=lambda i: seen[i.pk], reverse=True)  # stable: shuffled within equal counts
    chosen: list[Item] = []
    levels = [slug for slug in LEVEL_ORDER if pools.get(slug)]
    while len(chosen) < count and any(pools.get(slug) for slug in levels):
        # Fewest-seen first across levels too: a level whose fresh items ran out waits its turn.
        for slug in sorted(levels, key=lambda lv: seen[pools[lv][-1].pk] if pools[lv] else 0):
            if pools[slug] and len(chosen) < count:
                chosen.append(pools[slug].pop())
    chosen.sort(key=lambda i: (LEVEL_ORDER.index(i.level.slug), rng.random()))
    return chosen


def _quick_quiz_items() -> list[Item]:
    return list(
        Item.objects.filter(
            is_active=True, pool=Item.Pool.PRACTICE, source__startswith=QUICK_QUIZ_SOURCE_PREFIX
        ).order_by("source", "key")
    )


@transaction.atomic
def attempt_start(*, learner: User, quiz: Quiz, seed: int | None = None) -> tuple[Attempt, bool]:
    """Start an attempt, or resume the learner's open one of this quiz (returns created=False)."""
    now = timezone.now()
    current = (
        Attempt.objects.select_for_update()
        .filter(learner=learner, quiz=quiz, status=Attempt.Status.OPEN)
        .order_by("-started_at")
        .first()
    )
    if current is not None and (current.deadline is None or current.deadline > now):
        return current, False
    if current is not None:
        _finalize(current, now=now)
    if not quiz.is_published:
        raise ApplicationError("This quiz is not open for attempts.")
    seed = seed if seed is not None else secrets.randbits(48)
    limit = quiz.settings.get("time_limit_minutes")
    attempt = Attempt.objects.create(
        learner=learner,
        quiz=quiz,
        seed=seed,
        deadline=now + timedelta(minutes=float(limit)) if limit else None,
    )
    rng = random.Random(seed)  # noqa: S311 -- seeded for a reproducible attempt; not security-relevant
    items: list[Item] = []
    if quiz.kind == Quiz.Kind.PRACTICE:
        items = _practice_items(quiz, learner, rng)
    elif quiz.kind == Quiz.Kind.QUICK_QUIZ:
        items = _quick_quiz_items()
    if quiz.kind in (Quiz.Kind.PRACTICE, Quiz.Kind.QUICK_QUIZ):
        if not items:
            raise ApplicationError(
                "This quiz has no questions yet: the question bank has not been loaded "
                "(manage.py load_curriculum)."
            )
        AttemptItem.objects.bulk_create(
            AttemptItem(attempt=attempt, item=item, position=i, option_order=_option_order(item, seed))
            for i, item in enumerate(items, start=1)
        )
    elif quiz.kind == Quiz.Kind.PLACEMENT and _placement_serve_next(attempt) is None:
        raise ApplicationError(
            "The placement test has no questions yet: the question bank has not been loaded "
            "(manage.py load_curriculum)."
        )
    return attempt, True


# --- placement ---------------------------------------------------------------------------


def placement_bank() -> dict[str, list[BankItem]]:
    """Active placement-pool items by sub-skill slug, sub-skills in the catalog's order."""
    bank: dict[str, list[BankItem]] = {s.slug: [] for s in SubSkill.objects.order_by("order")}
    rows = Item.objects.filter(is_active=True, pool=Item.Pool.PLACEMENT).values_list(
        "key", "subskill__slug", "irt_a", "irt_b", "level__slug", "irt_c"
    )
    for key, subskill, a, b, level, c in rows.order_by("key"):
        bank.setdefault(subskill, []).append(BankItem(key, subskill, a, b, level, c))
    return {slug: items for slug, items in bank.items() if items}


def _placement_state(attempt: Attempt, rows: list[AttemptItem]) -> tuple[PlacementState, dict[str, BankItem]]:
    bank = placement_bank()
    by_key = {item.id: item for items in bank.values() for item in items}
    state = PlacementState(
        bank, PlacementSettings.from_mapping(attempt.quiz.settings), placement_exposure(before=attempt)
    )
    for row in rows:
        bank_item = by_key.get(row.item.key)
        if bank_item is None:  # retired since it was served
            continue
        if row.is_answered:
            state.record(bank_item, row.score or 0.0)
        else:
            state.mark_seen(bank_item)
    return state, by_key


def _placement_serve_next(attempt: Attempt) -> AttemptItem | None:
    """Serve the next adaptive item (creating its AttemptItem), or None when finished."""
    rows = list(attempt.attempt_items.select_related("item").order_by("position"))
    if any(not row.is_answered for row in rows):
        return next(row for row in rows if not row.is_answered)
    state, _ = _placement_state(attempt, rows)
    position = len(rows) + 1
    chosen = state.next_item(random.Random(f"{attempt.seed}:next:{position}"))  # noqa: S311 -- seeded for a reproducible attempt; not security-relevant
    if chosen is None:
        return None
    item = Item.objects.get(key=chosen.id)
    return AttemptItem.objects.create(
        attempt=attempt,
        item=item,
        position=position,
        option_order=_option_order(item, attempt.seed),
    )


# --- answering ---------------------------------------------------------------------------


def _lock_open_attempt(attempt: Attempt, *, now: datetime) -> Attempt:
    locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
    if locked.status != Attempt.Status.OPEN:
        raise AttemptConflictError(
            f"This attempt is already {locked.get_status_display().lower()}; "
            "start a new attempt to answer again."
        )
    if locked.deadline is not None and now > locked.deadline:
        raise ApplicationError(
            "The time limit of this attempt has passed; nothing more can be answered. "
            "Submit it to see your results."
        )
    return locked


def _record(row: AttemptItem, response: Any, *, now: datetime) -> AttemptItem:
    item = row.item
    try:
        normalized = normalize_response(item.type, item.option_ids, response)
    except ResponseError as exc:
        raise ApplicationError(f"Item {item.key}: {exc}") from exc
    score = score_response(item.type, item.answer, normalized, scoring=item.scoring)
    updated = AttemptItem.objects.filter(pk=row.pk, answered_at__isnull=True).update(
        response=normalized, score=score, answered_at=now
    )
    if not updated:
        raise AttemptConflictError(f"Item {item.key} is already answered; answers cannot be changed.")
    row.response, row.score, row.answered_at = normalized, score, now
    return row


def _row_for(attempt: Attempt, item_key: str) -> AttemptItem:
    row = AttemptItem.objects.select_related("item").filter(attempt=attempt, item__key=item_key).first()
    if row is None:
        raise ApplicationError(
            f"Item {item_key!r} is not a question of this attempt; answer one of the items it lists."
        )
    if row.is_answered:
        raise AttemptConflictError(f"Item {item_key} is already answered; answers cannot be changed.")
    return row


@transaction.atomic
def attempt_answer(*, attempt: Attempt, item_key: str, response: Any) -> AnswerOutcome:
    """Record and score one answer. For placement, also serve the next item (or finish)."""
    now = timezone.now()
    attempt = _lock_open_attempt(attempt, now=now)
    if attempt.quiz.kind == Quiz.Kind.SELF_CHECK:
        raise ApplicationError("A self-check takes confidence ratings: send {question, confidence} instead.")
    row = _record(_row_for(attempt, item_key), response, now=now)
    if attempt.quiz.kind != Quiz.Kind.PLACEMENT:
        return AnswerOutcome(attempt_item=row, next_item=None, finished=False)
    following = _placement_serve_next(attempt)
    return AnswerOutcome(attempt_item=row, next_item=following, finished=following is None)


@transaction.atomic
def self_rating_record(*, attempt: Attempt, question_key: str, confidence: int) -> SelfRating:
    """Record the confidence (1-5) for one self-check question, once."""
    now = timezone.now()
    attempt = _lock_open_attempt(attempt, now=now)
    if attempt.quiz.kind != Quiz.Kind.SELF_CHECK:
        raise ApplicationError("Only self-check attempts take confidence ratings; send {item, response}.")
    return _rate(attempt, question_key, confidence)


def _rate(attempt: Attempt, question_key: str, confidence: Any) -> SelfRating:
    questions = {q.key: q for q in self_check_questions()}
    question = questions.get(question_key)
    if question is None:
        raise ApplicationError(
            f"{question_key!r} is not a self-check question; use one of {', '.join(questions)}."
        )
    if isinstance(confidence, bool) or not isinstance(confidence, int) or not 1 <= confidence <= 5:
        raise ApplicationError("Confidence must be a whole number from 1 (not at all) to 5 (could teach it).")
    if SelfRating.objects.filter(attempt=attempt, question_key=question_key).exists():
        raise AttemptConflictError(f"{question_key} is already rated in this attempt.")
    try:
        with transaction.atomic():
            return SelfRating.objects.create(
                attempt=attempt,
                question_key=question.key,
                question_text=question.text,
                subskills=list(question.subskills),
                confidence=confidence,
            )
    except IntegrityError as exc:
        raise AttemptConflictError(f"{question_key} is already rated in this attempt.") from exc


# --- submitting --------------------------------------------------------------------------


@transaction.atomic
def attempt_submit(
    *,
    attempt: Attempt,
    responses: Mapping[str, Any] | None = None,
    ratings: Mapping[str, int] | None = None,
) -> Attempt:
    """Record any final answers or ratings (all or none), then score and close the attempt.

    A second submit is a 409. Past the deadline, the attempt closes as expired and is
    scored on what was answered in time.
    """
    now = timezone.now()
    locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
    if locked.status != Attempt.Status.OPEN:
        raise AttemptConflictError(
            f"This attempt was already {locked.get_status_display().lower()}; "
            "its results do not change. Start a new attempt to try again."
        )
    overdue = locked.deadline is not None and now > locked.deadline
    if (responses or ratings) and overdue:
        raise ApplicationError(
            "The time limit of this attempt has passed; answers sent now are not recorded."
        )
    for item_key, response in (responses or {}).items():
        if locked.quiz.kind == Quiz.Kind.PLACEMENT:
            raise ApplicationError("Placement answers are sent one at a time, to the answers endpoint.")
        _record(_row_for(locked, item_key), response, now=now)
    for question_key, confidence in (ratings or {}).items():
        if locked.quiz.kind != Quiz.Kind.SELF_CHECK:
            raise ApplicationError("Only self-check attempts take confidence ratings.")
        _rate(locked, question_key, confidence)
    return _finalize(locked, now=now)


def _finalize(attempt: Attempt, *, now: datetime) -> Attempt:
    overdue = attempt.deadline is not None and now > attempt.deadline
    attempt.results = attempt_results_compute(attempt=attempt)
    attempt.status = Attempt.Status.EXPIRED if overdue else Attempt.Status.SUBMITTED
    attempt.submitted_at = now
    attempt.save(update_fields=["results", "status", "submitted_at"])
    attempt_id = attempt.pk
    transaction.on_commit(lambda: attempt_finished.send(sender=Attempt, attempt_id=attempt_id))
    return attempt


@transaction.atomic
def attempts_expire_overdue(*, now: datetime | None = None) -> int:
    """Close every open attempt past its deadline as expired (scored on what was answered).

    Idempotent: meant for a periodic task.
    """
    now = now or timezone.now()
    count = 0
    for attempt in (
        Attempt.objects.select_for_update()
        .select_related("quiz")
        .filter(status=Attempt.Status.OPEN, deadline__lt=now)
    ):
        _finalize(attempt, now=now)
        count += 1
    return count


# --- results -----------------------------------------------------------------------------


def _next_level(level: str) -> str | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def attempt_results_compute(*, attempt: Attempt) -> dict[str, Any]:
    """Score, per-sub-skill EAP estimates with confidence, feedback and what to study next."""
    level_names = dict(Level.objects.values_list("slug", "name"))
    subskill_names = dict(SubSkill.objects.values_list("slug", "name"))
    if attempt.quiz.kind == Quiz.Kind.SELF_CHECK:
        return _self_check_results(attempt, level_names, subskill_names)
    rows = list(attempt.attempt_items.select_related("item", "item__subskill").order_by("position"))
    counted = [r for r in rows if r.is_answered or attempt.quiz.kind != Quiz.Kind.PLACEMENT]
    points = sum(r.score or 0.0 for r in counted)
    observations: dict[str, list[Observation]] = {}
    missed_tags: dict[str, list[str]] = {}
    for row in counted:
        slug = row.item.subskill.slug
        if row.is_answered:
            observations.setdefault(slug, []).append(
                Observation(a=row.item.irt_a, b=row.item.irt_b, score=row.score or 0.0, c=row.item.irt_c)
            )
        if (row.score or 0.0) < 1.0:
            for tag in row.item.tags:
                if tag not in missed_tags.setdefault(slug, []):
                    missed_tags[slug].append(tag)
    placement = PlacementSettings.from_mapping(attempt.quiz.settings)
    # A placement shows the posterior its stopping rule used (sub-skills inform each other);
    # other quizzes are scored one sub-skill at a time.
    estimates = (
        placement_estimates(observations, placement)
        if attempt.quiz.kind == Quiz.Kind.PLACEMENT
        else {
            slug: estimate(observed, credible_mass=placement.credible_mass)
            for slug, observed in observations.items()
        }
    )
    subskills = []
    for slug in sorted(
        observations, key=lambda s: list(subskill_names).index(s) if s in subskill_names else 99
    ):
        est = estimates[slug]
        subskills.append(
            {
                "slug": slug,
                "name": subskill_names.get(slug, slug),
                **est.as_dict(),
                "level_name": level_names.get(est.level, est.level.title()),
                "confidence_percent": round(100 * est.confidence),
                "url": subskill_url(slug),
            }
        )
    percent = round(100 * points / len(counted), 1) if counted else 0.0
    study_next: list[dict[str, Any]] = []
    for entry in sorted(subskills, key=lambda e: e["theta"]):
        target = _next_level(str(entry["level"]))
        study_next.append(
            {
                "subskill": entry["slug"],
                "name": entry["name"],
                "level": entry["level"],
                "next_level": target,
                "next_level_name": level_names.get(target, target.title()) if target else None,
                "missed_topics": missed_tags.get(str(entry["slug"]), [])[:6],
                "url": subskill_url(str(entry["slug"])),
            }
        )
    lines = [f"You scored {points:g} of {len(counted)} ({percent:g}%)."]
    for entry in subskills:
        lines.append(
            f"{entry['name']}: {entry['level_name']} "
            f"({entry['confidence_percent']}% confident, {entry['n_items']} questions)."
        )
    if study_next:
        first = study_next[0]
        goal = f"toward {first['next_level_name']}" if first["next_level"] else "to stay sharp"
        lines.append(f"Study {first['name']} next, {goal}.")
    return {
        "score": {"points": round(points, 3), "max": len(counted), "percent": percent},
        "subskills": subskills,
        "feedback": " ".join(lines),
        "study_next": study_next,
        "links": {"path": "/path/", "resources": "/resources/", "labs": "/labs/"},
    }


def _self_check_results(
    attempt: Attempt, level_names: dict[str, str], subskill_names: dict[str, str]
) -> dict[str, Any]:
    ratings = list(attempt.self_ratings.all())
    levels = self_assessed_levels((r.subskills, r.confidence) for r in ratings)
    entries = [
        {
            "slug": slug,
            "name": subskill_names.get(slug, slug),
            **values,
            "level_name": level_names.get(str(values["level"]), str(values["level"]).title()),
        }
        for slug, values in sorted(levels.items(), key=lambda kv: kv[1]["mean_confidence"])
    ]
    study_next: list[dict[str, Any]] = [
        {
            "subskill": e["slug"],
            "name": e["name"],
            "level": e["level"],
            "next_level": _next_level(str(e["level"])),
            "next_level_name": None,
            "missed_topics": [],
            "url": subskill_url(str(e["slug"])),
        }
        for e in entries[:2]
    ]
    feedback = (
        f"You rated {len(ratings)} of the self-check questions. "
        + " ".join(f"{e['name']}: {e['level_name']} (self-assessed)." for e in entries)
        + " Take the placement test to measure these."
    )
    return {
        "self_assessed": entries,
        "feedback": feedback,
        "study_next": study_next,
        "links": {"path": "/path/", "resources": "/resources/", "labs": "/labs/"},
    }
