"""Writes of progress: cohorts, joining them, deliverable links, and the progress cache.

The progress cache (`ProgressSnapshot`) holds each learner's computed report with the
evidence stamp it was computed from. `progress_for_learners` recomputes a report only when
the stamp changed (or the report is older than SNAPSHOT_MAX_AGE, for content changes);
stamps are aggregates over the evidence tables themselves, so evidence written without
signals (lab results use queryset.update()) still shows on the next read. The stamp is
read before the evidence: a report stored with an older stamp than its data is merely
recomputed once more, never served stale.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.common.exceptions import ApplicationError
from mlrange.labs import hints
from mlrange.progress import selectors
from mlrange.progress.models import Cohort, CohortMembership, DeliverableLink, ProgressSnapshot
from mlrange.progress.report import build_progress

SNAPSHOT_MAX_AGE = timedelta(hours=6)
STUCK_GRADED_WITHOUT_PASS = 3
STUCK_IDLE = timedelta(days=14)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def progress_for_learners(*, learner_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each learner's progress report, from the cache when its stamp still matches.

    A fixed number of queries whatever the learners' history: one for stamps, one for
    cached reports, and for the stale ones a bulk evidence read and one upsert.
    """
    now = timezone.now()
    stamps = selectors.evidence_stamps(learner_ids=learner_ids)
    cached = selectors.snapshots_for_learners(learner_ids=learner_ids)
    reports: dict[int, dict[str, Any]] = {}
    stale: list[int] = []
    for learner_id in learner_ids:
        snapshot = cached.get(learner_id)
        stamp = stamps.get(learner_id, ("", None))[0]
        if snapshot and snapshot.stamp == stamp and now - snapshot.computed_at < SNAPSHOT_MAX_AGE:
            reports[learner_id] = snapshot.data
        else:
            stale.append(learner_id)
    if stale:
        content = selectors.progress_content()
        evidence = selectors.evidence_for_learners(learner_ids=stale)
        rows = []
        for learner_id in stale:
            report = build_progress(evidence[learner_id], content, now=now)
            reports[learner_id] = report
            rows.append(
                ProgressSnapshot(
                    learner_id=learner_id,
                    stamp=stamps.get(learner_id, ("", None))[0],
                    data=report,
                    computed_at=now,
                )
            )
        ProgressSnapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["learner"],
            update_fields=["stamp", "data", "computed_at"],
        )
    return reports


def progress_for_learner(*, learner: User) -> dict[str, Any]:
    """The learner's progress report (cached; see the module docstring)."""
    return progress_for_learners(learner_ids=[learner.pk])[learner.pk]


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def cohort_create(*, instructor: User, name: str) -> Cohort:
    """A cohort taught by `instructor`, with a fresh join code. Instructors only."""
    if not instructor.is_instructor:
        raise PermissionDenied("Only instructors create cohorts.")
    name = name.strip()
    if not name:
        raise ApplicationError("Give the cohort a name.")
    for _ in range(10):
        code = _new_code()
        if not Cohort.objects.filter(code=code).exists():
            break
    else:  # pragma: no cover - 32^8 codes; ten collisions in a row do not happen
        raise ApplicationError("Could not pick a join code; try again.")
    cohort = Cohort(name=name, code=code, created_by=instructor)
    cohort.full_clean()
    cohort.save()
    cohort.instructors.add(instructor)
    return cohort


def normalize_code(code: str) -> str:
    return "".join(code.split()).upper().replace("-", "")


@transaction.atomic
def cohort_join(*, learner: User, code: str) -> Cohort:
    """Join the cohort with this code. Idempotent: joining twice keeps one membership."""
    cohort = Cohort.objects.filter(code=normalize_code(code)).first()
    if cohort is None:
        raise ApplicationError("No cohort has that join code. Check it with your instructor.")
    try:
        with transaction.atomic():
            CohortMembership.objects.get_or_create(cohort=cohort, learner=learner)
    except IntegrityError:
        pass  # joined concurrently: the membership exists, which is what was asked
    return cohort


@transaction.atomic
def deliverable_link_set(
    *, learner: User, stage_slug: str, deliverable_index: int, url: str
) -> DeliverableLink | None:
    """Attach (or with an empty url, remove) the learner's link to a stage deliverable."""
    content = selectors.progress_content()
    stage = next((s for s in content.stages if s.slug == stage_slug), None)
    if stage is None or not 0 <= deliverable_index < len(stage.deliverables):
        raise ApplicationError("No such deliverable on the learning path.")
    url = url.strip()
    if not url:
        DeliverableLink.objects.filter(
            learner=learner, stage_slug=stage_slug, deliverable_index=deliverable_index
        ).delete()
        return None
    link = DeliverableLink.objects.filter(
        learner=learner, stage_slug=stage_slug, deliverable_index=deliverable_index
    ).first() or DeliverableLink(learner=learner, stage_slug=stage_slug, deliverable_index=deliverable_index)
    link.url = url
    link.full_clean()
    link.save()
    return link


def cohort_progress(*, cohort: Cohort) -> dict[str, Any]:
    """The cohort's report: levels per learner and sub-skill, lab pass rates, item
    statistics and who is stuck. A fixed number of queries whatever the history."""
    now = timezone.now()
    members = selectors.cohort_members(cohort=cohort)
    ids = [m.learner_id for m in members]
    reports = progress_for_learners(learner_ids=ids)
    outcomes = selectors.cohort_lab_outcomes(learner_ids=ids)
    items = selectors.cohort_item_statistics(learner_ids=ids)
    hint_use = hints.hint_use_for_learners(learner_ids=ids)
    hints_used = hints.hints_used_by_learner(hint_use)
    labs: dict[str, dict[str, Any]] = {}
    stuck_labs: dict[int, list[str]] = {}
    for row in outcomes:
        lab = labs.setdefault(
            row["lab__slug"],
            {"slug": row["lab__slug"], "title": row["lab__title"], "attempted": 0, "passed": 0},
        )
        lab["attempted"] += 1
        lab["passed"] += 1 if row["passes"] else 0
        if not row["passes"] and row["graded"] >= STUCK_GRADED_WITHOUT_PASS:
            stuck_labs.setdefault(row["learner_id"], []).append(row["lab__title"])
    for lab in labs.values():
        lab["pass_rate"] = round(lab["passed"] / lab["attempted"], 3) if lab["attempted"] else None
        lab["hints_used"] = sum(use.used for use in hint_use if use.lab_slug == lab["slug"])

    subskills = selectors.subskill_list()
    usernames = {member.learner_id: member.learner.username for member in members}
    learners = []
    for member in members:
        report = reports[member.learner_id]
        last = report.get("last_activity")
        last_at = datetime.fromisoformat(last) if last else None
        reasons = [
            f"{STUCK_GRADED_WITHOUT_PASS}+ graded submissions without a pass: {title}"
            for title in sorted(stuck_labs.get(member.learner_id, []))
        ]
        idle_since = last_at or member.joined_at
        if now - idle_since >= STUCK_IDLE:
            reasons.append(f"No activity for {(now - idle_since).days} days")
        learners.append(
            {
                "id": member.learner_id,
                "username": member.learner.username,
                "joined_at": member.joined_at.isoformat(),
                "last_activity": last,
                "overall": report["overall"],
                "levels": {
                    s["slug"]: {
                        "level": s["estimate"]["level"],
                        "level_name": s["estimate"]["level_name"],
                        "theta": s["estimate"]["theta"],
                        "confidence": s["estimate"]["confidence"],
                        "n_items": s["estimate"]["n_items"],
                    }
                    for s in report["subskills"]
                },
                "labs_passed": sum(1 for lab in report["labs"] if lab["passed"]),
                "hints_used": hints_used.get(member.learner_id, 0),
                "stuck": reasons,
            }
        )
    return {
        "cohort": {"id": cohort.pk, "name": cohort.name, "code": cohort.code, "learner_count": len(members)},
        "subskills": subskills,
        "learners": learners,
        "labs": sorted(labs.values(), key=lambda lab: lab["title"]),
        "items": items,
        "hints": [
            {
                "username": usernames[use.learner_id],
                "lab": use.lab_slug,
                "lab_title": use.lab_title,
                "used": use.used,
                "total": use.total,
            }
            for use in hint_use
        ],
        "stuck": [{"username": row["username"], "reasons": row["stuck"]} for row in learners if row["stuck"]],
    }
