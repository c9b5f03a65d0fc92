"""Reads for progress: learners' evidence and the content it is read against, evidence
stamps, and cohorts. Every function here runs a fixed number of queries, however long
the learners' history (no per-row queries: bulk `values()` reads and aggregates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from mlrange.accounts.models import User
from mlrange.assessments.models import Attempt, AttemptItem, Quiz, SelfRating
from mlrange.catalog.models import Level, PathStage, RedFlag, SubSkill
from mlrange.labs.models import Lab, Submission
from mlrange.progress.estimation import CheckResult, ItemResponse, LabResult
from mlrange.progress.models import Cohort, CohortMembership, DeliverableLink, ProgressSnapshot
from mlrange.progress.report import (
    CORRECT_SCORE,
    HISTORY_LIMIT,
    REPORT_VERSION,
    AttemptSummary,
    Content,
    Evidence,
    LabInfo,
    QuizInfo,
    RedFlagInfo,
    StageInfo,
    SubmissionSummary,
    SubskillInfo,
)

GRADED_STATUSES = (Submission.Status.PASSED, Submission.Status.FAILED)
CLOSED_ATTEMPT = ~Q(status=Attempt.Status.OPEN)


# ---------------------------------------------------------------------------------------
# Links to other apps' pages (their URL names are looked up, with a fallback).


def _reverse_or(name: str, fallback: str, **kwargs: object) -> str:
    for candidate in (name, fallback):
        try:
            return reverse(candidate, kwargs=kwargs if candidate == name else None)
        except NoReverseMatch:
            continue
    return ""


def attempt_url(attempt_id: int, *, is_open: bool = False) -> str:
    """An open attempt's page to carry on, or a closed attempt's results."""
    name = "assessments:attempt" if is_open else "assessments:results"
    return _reverse_or(name, "assessments:index", attempt_id=attempt_id)


def quiz_url(slug: str) -> str:
    """Quizzes start by POST from the quiz list, so a quiz links to that list."""
    return _reverse_or("assessments:index", "assessments:index")


def submission_url(submission_id: object) -> str:
    return reverse("labs:submission", kwargs={"submission_id": submission_id})


def lab_url(slug: str) -> str:
    return reverse("labs:detail", kwargs={"slug": slug})


# ---------------------------------------------------------------------------------------
# Content.


@lru_cache(maxsize=1)
def _atlas_names() -> dict[str, str]:
    """ATLAS id -> name for every ATLAS 5.6.0 object (parsed once per process)."""
    try:
        from mlrange.catalog.atlas import atlas_catalog

        return {atlas_id: entry.name for atlas_id, entry in atlas_catalog().entries.items()}
    except (ImportError, OSError, ImproperlyConfigured):
        return {}


def progress_content() -> Content:
    """The catalog, labs and quizzes that progress is read against (six queries)."""
    subskills = tuple(
        SubskillInfo(slug=s.slug, name=s.name, order=s.order, weight=float(s.weight))
        for s in SubSkill.objects.order_by("order")
    )
    level_names = dict(Level.objects.values_list("slug", "name"))
    labs = tuple(
        LabInfo(
            slug=row["slug"],
            title=row["title"],
            subskill=row["subskill__slug"],
            level=row["level__slug"],
            atlas=tuple(str(x) for x in row["atlas"] or ()),
            owasp=tuple(str(x) for x in row["owasp"] or ()),
            url=lab_url(row["slug"]),
        )
        for row in Lab.objects.filter(is_active=True)
        .order_by("level__order", "subskill__order", "slug")
        .values("slug", "title", "subskill__slug", "level__slug", "atlas", "owasp")
    )
    quizzes = tuple(
        QuizInfo(
            slug=row["slug"],
            title=row["title"],
            kind=row["kind"],
            subskill=row["subskill__slug"],
            url=quiz_url(row["slug"]),
        )
        for row in Quiz.objects.filter(is_published=True)
        .order_by("order", "slug")
        .values("slug", "title", "kind", "subskill__slug")
    )
    stages = tuple(
        StageInfo(
            slug=row["slug"],
            title=row["title"],
            order=row["order"],
            level=row["level__slug"],
            deliverables=tuple(str(d) for d in row["deliverables"] or ()),
        )
        for row in PathStage.objects.order_by("order").values(
            "slug", "title", "order", "level__slug", "deliverables"
        )
    )
    red_flags = tuple(
        RedFlagInfo(slug=row["slug"], text=row["text"], subskill=row["subskill__slug"], remedy=row["remedy"])
        for row in RedFlag.objects.order_by("order").values("slug", "text", "subskill__slug", "remedy")
    )
    return Content(
        subskills=subskills,
        level_names=level_names,
        labs=labs,
        quizzes=quizzes,
        stages=stages,
        red_flags=red_flags,
        atlas_names=_atlas_names(),
    )


# ---------------------------------------------------------------------------------------
# Evidence.


def _checks(raw: Any) -> tuple[CheckResult, ...]:
    checks = []
    for index, check in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(check, dict):
            continue
        try:
            points = float(check.get("points") or 0.0)
            max_points = float(check.get("max_points") or 0.0)
        except (TypeError, ValueError):
            continue
        checks.append(CheckResult(str(check.get("id", index)), points, max_points))
    return tuple(checks)


def evidence_for_learners(*, learner_ids: Sequence[int]) -> dict[int, Evidence]:
    """Every learner's evidence, in seven queries whatever their number or history."""
    ids = list(learner_ids)
    parts: dict[int, dict[str, Any]] = {
        i: {
            "responses": [],
            "refs": {},
            "attempts": [],
            "labs": [],
            "graded": {},
            "recent": [],
            "total": 0,
            "ratings": {},
            "links": {},
        }
        for i in ids
    }
    row: Mapping[str, Any]
    attempts = (
        Attempt.objects.filter(learner_id__in=ids)
        .values(
            "id",
            "learner_id",
            "quiz__slug",
            "quiz__title",
            "quiz__kind",
            "quiz__subskill__slug",
            "status",
            "started_at",
            "submitted_at",
        )
        .annotate(n_items=Count("attempt_items"), total=Sum("attempt_items__score"))
        .order_by()
    )
    for row in attempts:
        if row["quiz__kind"] == Quiz.Kind.SELF_CHECK:
            percent = None
        else:
            percent = (row["total"] or 0.0) / row["n_items"] if row["n_items"] else None
        parts[row["learner_id"]]["attempts"].append(
            AttemptSummary(
                id=row["id"],
                quiz_slug=row["quiz__slug"],
                quiz_title=row["quiz__title"],
                kind=row["quiz__kind"],
                subskill=row["quiz__subskill__slug"],
                status=row["status"],
                started_at=row["started_at"],
                submitted_at=row["submitted_at"],
                n_items=row["n_items"],
                percent=percent if row["status"] != Attempt.Status.OPEN else None,
                url=attempt_url(row["id"], is_open=row["status"] == Attempt.Status.OPEN),
            )
        )
    responses = (
        AttemptItem.objects.filter(
            Q(attempt__learner_id__in=ids),
            ~Q(attempt__status=Attempt.Status.OPEN),
            score__isnull=False,
            answered_at__isnull=False,
        )
        .values(
            "attempt_id",
            "attempt__learner_id",
            "item__key",
            "item__subskill__slug",
            "item__irt_a",
            "item__irt_b",
            "item__irt_c",
            "item__references",
            "score",
            "answered_at",
        )
        .order_by()
    )
    for row in responses:
        score, answered_at = row["score"], row["answered_at"]
        if score is None or answered_at is None:  # excluded by the filter; narrows the types
            continue
        part = parts[row["attempt__learner_id"]]
        part["responses"].append(
            ItemResponse(
                item_key=row["item__key"],
                subskill=row["item__subskill__slug"],
                a=row["item__irt_a"],
                b=row["item__irt_b"],
                c=row["item__irt_c"],
                score=score,
                answered_at=answered_at,
                attempt_id=row["attempt_id"],
            )
        )
        part["refs"][row["item__key"]] = row["item__references"] or []
    graded = (
        Submission.objects.filter(
            learner_id__in=ids,
            mode=Submission.Mode.GRADE,
            status__in=GRADED_STATUSES,
            score__isnull=False,
        )
        .values(
            "id",
            "learner_id",
            "lab__slug",
            "lab__subskill__slug",
            "lab__level__slug",
            "score",
            "passed",
            "checks",
            "finished_at",
            "created_at",
        )
        .order_by()
    )
    for row in graded:
        part = parts[row["learner_id"]]
        part["labs"].append(
            LabResult(
                submission_id=str(row["id"]),
                lab_slug=row["lab__slug"],
                subskill=row["lab__subskill__slug"],
                level=row["lab__level__slug"],
                score=float(row["score"] or 0.0),
                passed=bool(row["passed"]),
                at=row["finished_at"] or row["created_at"],
                checks=_checks(row["checks"]),
            )
        )
        part["graded"][row["lab__slug"]] = part["graded"].get(row["lab__slug"], 0) + 1
    recent = (
        Submission.objects.filter(learner_id__in=ids)
        .annotate(
            row_number=Window(RowNumber(), partition_by=[F("learner_id")], order_by=F("created_at").desc())
        )
        .filter(row_number__lte=HISTORY_LIMIT)
        .values(
            "id", "learner_id", "lab__slug", "lab__title", "mode", "status", "score", "passed", "created_at"
        )
    )
    for row in recent:
        parts[row["learner_id"]]["recent"].append(
            SubmissionSummary(
                id=str(row["id"]),
                lab_slug=row["lab__slug"],
                lab_title=row["lab__title"],
                mode=row["mode"],
                status=row["status"],
                score=row["score"],
                passed=row["passed"],
                created_at=row["created_at"],
                url=submission_url(row["id"]),
            )
        )
    for row in (
        Submission.objects.filter(learner_id__in=ids).values("learner_id").annotate(n=Count("id")).order_by()
    ):
        parts[row["learner_id"]]["total"] = row["n"]
    ratings = SelfRating.objects.filter(
        attempt__learner_id__in=ids,
        attempt__quiz__kind=Quiz.Kind.SELF_CHECK,
        attempt__status__in=(Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED),
    ).values("attempt_id", "attempt__learner_id", "attempt__submitted_at", "subskills", "confidence")
    for row in ratings:
        by_attempt = parts[row["attempt__learner_id"]]["ratings"]
        key = (row["attempt__submitted_at"], row["attempt_id"])
        by_attempt.setdefault(key, []).append(
            (tuple(str(s) for s in row["subskills"] or ()), int(row["confidence"]))
        )
    for link in DeliverableLink.objects.filter(learner_id__in=ids).values(
        "learner_id", "stage_slug", "deliverable_index", "url"
    ):
        parts[link["learner_id"]]["links"][(link["stage_slug"], link["deliverable_index"])] = link["url"]

    result: dict[int, Evidence] = {}
    for learner_id, part in parts.items():
        latest_self_check = max(
            part["ratings"], default=None, key=lambda k: (k[0] is not None, k[0] or datetime.min, k[1])
        )
        recent_rows = sorted(part["recent"], key=lambda s: s.created_at, reverse=True)
        result[learner_id] = Evidence(
            responses=tuple(part["responses"]),
            item_references=part["refs"],
            attempts=tuple(part["attempts"]),
            lab_results=tuple(part["labs"]),
            graded_counts=part["graded"],
            recent_submissions=tuple(recent_rows),
            submission_total=part["total"],
            self_ratings=tuple(part["ratings"][latest_self_check]) if latest_self_check else (),
            self_check_at=latest_self_check[0] if latest_self_check else None,
            deliverable_links=part["links"],
        )
    return result


# ---------------------------------------------------------------------------------------
# Evidence stamps: cheap aggregates that change whenever the evidence does.


def _scalar(qs: QuerySet[Any], group: str, aggregate: Any) -> Subquery:
    return Subquery(qs.order_by().values(group).annotate(value=aggregate).values("value")[:1])


def _stamp_annotations() -> dict[str, Any]:
    items = AttemptItem.objects.filter(attempt__learner=OuterRef("pk"), score__isnull=False)
    attempts = Attempt.objects.filter(learner=OuterRef("pk"))
    submissions = Submission.objects.filter(learner=OuterRef("pk"))
    ratings = SelfRating.objects.filter(attempt__learner=OuterRef("pk"))
    links = DeliverableLink.objects.filter(learner=OuterRef("pk"))
    return {
        "items_n": _scalar(items, "attempt__learner", Count("pk")),
        "items_at": _scalar(items, "attempt__learner", Max("answered_at")),
        "items_sum": _scalar(items, "attempt__learner", Sum("score")),
        "attempts_n": _scalar(attempts, "learner", Count("pk")),
        "attempts_closed": _scalar(attempts, "learner", Count("pk", filter=~Q(status=Attempt.Status.OPEN))),
        "attempts_started": _scalar(attempts, "learner", Max("started_at")),
        "attempts_at": _scalar(attempts, "learner", Max("submitted_at")),
        "subs_n": _scalar(submissions, "learner", Count("pk")),
        "subs_created": _scalar(submissions, "learner", Max("created_at")),
        "subs_started": _scalar(submissions, "learner", Max("started_at")),
        "subs_finished": _scalar(submissions, "learner", Max("finished_at")),
        "subs_sum": _scalar(submissions, "learner", Sum(Coalesce("score", 0.0))),
        "subs_graded": _scalar(submissions, "learner", Count("pk", filter=Q(status__in=GRADED_STATUSES))),
        "ratings_n": _scalar(ratings, "attempt__learner", Count("pk")),
        "ratings_at": _scalar(ratings, "attempt__learner", Max("created_at")),
        "links_n": _scalar(links, "learner", Count("pk")),
        "links_at": _scalar(links, "learner", Max("updated_at")),
    }


def evidence_stamps(*, learner_ids: Iterable[int]) -> dict[int, tuple[str, datetime | None]]:
    """Per learner: a digest of their evidence aggregates, and their last activity (one query)."""
    annotations = _stamp_annotations()
    rows = User.objects.filter(pk__in=list(learner_ids)).annotate(**annotations).values("pk", *annotations)
    stamps: dict[int, tuple[str, datetime | None]] = {}
    for row in rows:
        values = [f"v{REPORT_VERSION}"] + [repr(row[name]) for name in annotations]
        digest = hashlib.sha256("|".join(values).encode()).hexdigest()
        moments = [
            row[name]
            for name in ("items_at", "attempts_started", "attempts_at", "subs_created", "subs_finished")
            if row[name] is not None
        ]
        stamps[row["pk"]] = (digest, max(moments) if moments else None)
    return stamps


def snapshots_for_learners(*, learner_ids: Iterable[int]) -> dict[int, ProgressSnapshot]:
    return {s.learner_id: s for s in ProgressSnapshot.objects.filter(learner_id__in=list(learner_ids))}


# ---------------------------------------------------------------------------------------
# Cohorts.


def subskill_list() -> list[dict[str, str]]:
    return [
        {"slug": slug, "name": name}
        for slug, name in SubSkill.objects.order_by("order").values_list("slug", "name")
    ]


def cohort_list_for_instructor(*, instructor: User) -> QuerySet[Cohort]:
    return Cohort.objects.filter(instructors=instructor).annotate(
        learner_count=Count("memberships", distinct=True)
    )


def cohort_list_for_learner(*, learner: User) -> QuerySet[Cohort]:
    return Cohort.objects.filter(memberships__learner=learner)


def cohort_get_for_instructor(*, cohort_id: int, instructor: User) -> Cohort:
    """The cohort if `instructor` teaches it; a 404 for anyone else (never a 403)."""
    cohort = Cohort.objects.filter(pk=cohort_id, instructors=instructor).first()
    if cohort is None:
        raise Http404("No such cohort.")
    return cohort


def cohort_members(*, cohort: Cohort) -> list[CohortMembership]:
    return list(
        CohortMembership.objects.filter(cohort=cohort).select_related("learner").order_by("learner__username")
    )


def cohort_lab_outcomes(*, learner_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Per (learner, lab): graded submissions and whether one passed (one query)."""
    return [
        dict(row)
        for row in Submission.objects.filter(
            learner_id__in=list(learner_ids), mode=Submission.Mode.GRADE, status__in=GRADED_STATUSES
        )
        .values("learner_id", "lab__slug", "lab__title")
        .annotate(
            graded=Count("pk"),
            passes=Count("pk", filter=Q(passed=True)),
        )
        .order_by("lab__slug", "learner_id")
    ]


def cohort_item_statistics(*, learner_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Per quiz item answered by the learners: responses and proportion correct (one query)."""
    rows = (
        AttemptItem.objects.filter(
            Q(attempt__learner_id__in=list(learner_ids)),
            ~Q(attempt__status=Attempt.Status.OPEN),
            score__isnull=False,
        )
        .values("item__key", "item__stem", "item__subskill__slug")
        .annotate(
            responses=Count("pk"),
            correct=Count("pk", filter=Q(score__gte=CORRECT_SCORE)),
            learners=Count("attempt__learner", distinct=True),
        )
        .order_by("item__subskill__slug", "item__key")
    )
    return [
        {
            "item": row["item__key"],
            "stem": row["item__stem"],
            "subskill": row["item__subskill__slug"],
            "responses": row["responses"],
            "learners": row["learners"],
            "proportion_correct": round(row["correct"] / row["responses"], 3) if row["responses"] else None,
        }
        for row in rows
    ]
