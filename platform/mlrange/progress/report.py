"""A learner's progress report, computed from loaded evidence and content. Pure: no Django.

`build_progress` turns an `Evidence` (the learner's rows, already read) and a `Content`
(the catalog, labs and quizzes) into the JSON-ready dict that the dashboard, the API and
the cache share. The rules that read evidence live here, each small and named:
the learning-path checklist (ticks from evidence only), the red flags, the next steps and
the ATLAS / OWASP coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlrange.assessments.irt import band_of
from mlrange.catalog.taxonomies import OWASP_ML_TOP_10 as OWASP_TAXONOMY
from mlrange.progress.estimation import (
    ItemResponse,
    LabResult,
    Progression,
    ordered_events,
    progression,
    theta_position,
)

REPORT_VERSION = 1
PASS_PERCENT = 0.70
CORRECT_SCORE = 0.999
LOW_ACCURACY = 0.5
MIN_RESPONSES_FOR_FLAG = 3
SUBSKILLS_FOR_STAGE = 3
HISTORY_LIMIT = 20

OWASP_ML_TOP_10: tuple[tuple[str, str], ...] = tuple((item.id, item.name) for item in OWASP_TAXONOMY.values())
LEVEL_ORDER: Mapping[str, int] = {"beginner": 1, "intermediate": 2, "advanced": 3, "expert": 4}


@dataclass(frozen=True)
class SubskillInfo:
    slug: str
    name: str
    order: int
    weight: float = 0.0


@dataclass(frozen=True)
class LabInfo:
    slug: str
    title: str
    subskill: str
    level: str
    atlas: tuple[str, ...] = ()
    owasp: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class QuizInfo:
    slug: str
    title: str
    kind: str
    subskill: str | None
    url: str = ""


@dataclass(frozen=True)
class StageInfo:
    slug: str
    title: str
    order: int
    level: str
    deliverables: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedFlagInfo:
    slug: str
    text: str
    subskill: str
    remedy: str = ""


@dataclass(frozen=True)
class Content:
    subskills: tuple[SubskillInfo, ...]
    level_names: Mapping[str, str]
    labs: tuple[LabInfo, ...] = ()
    quizzes: tuple[QuizInfo, ...] = ()
    stages: tuple[StageInfo, ...] = ()
    red_flags: tuple[RedFlagInfo, ...] = ()
    atlas_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptSummary:
    """A quiz attempt no longer open; `percent` = mean item score, unanswered items as 0."""

    id: int
    quiz_slug: str
    quiz_title: str
    kind: str
    subskill: str | None
    status: str
    started_at: datetime
    submitted_at: datetime | None
    n_items: int
    percent: float | None
    passed: bool | None = None
    url: str = ""


@dataclass(frozen=True)
class SubmissionSummary:
    id: str
    lab_slug: str
    lab_title: str
    mode: str
    status: str
    score: float | None
    passed: bool | None
    created_at: datetime
    url: str = ""


@dataclass(frozen=True)
class Evidence:
    """Everything read about one learner; lists may be empty for a new learner."""

    responses: tuple[ItemResponse, ...] = ()
    item_references: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    attempts: tuple[AttemptSummary, ...] = ()
    lab_results: tuple[LabResult, ...] = ()
    graded_counts: Mapping[str, int] = field(default_factory=dict)
    recent_submissions: tuple[SubmissionSummary, ...] = ()
    submission_total: int = 0
    self_ratings: tuple[tuple[tuple[str, ...], int], ...] = ()
    self_check_at: datetime | None = None
    deliverable_links: Mapping[tuple[str, int], str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.responses or self.attempts or self.lab_results or self.deliverable_links)


def _no_negative_zero(values: Mapping[str, Any]) -> dict[str, Any]:
    """Rounded floats without "-0.0" (the prior's mean is 0 up to rounding noise)."""
    return {k: v + 0.0 if isinstance(v, float) else v for k, v in values.items()}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# ---------------------------------------------------------------------------------------
# Self-assessment: the latest self-check, shown beside the estimate and never mixed in.

SELF_LEVEL_BY_RATING: tuple[tuple[float, str], ...] = (
    (2.0, "beginner"),
    (3.0, "intermediate"),
    (4.0, "advanced"),
)


def self_assessed_levels(
    ratings: Sequence[tuple[Sequence[str], int]],
) -> dict[str, dict[str, Any]]:
    """Per sub-skill: mean confidence (1-5), the number of ratings and the level it means."""
    values: dict[str, list[int]] = {}
    for subskills, confidence in ratings:
        for slug in subskills:
            values.setdefault(slug, []).append(confidence)
    result: dict[str, dict[str, Any]] = {}
    for slug, confidences in values.items():
        mean = sum(confidences) / len(confidences)
        level = next((lv for upper, lv in SELF_LEVEL_BY_RATING if mean < upper), "expert")
        result[slug] = {"mean_confidence": round(mean, 2), "n_ratings": len(confidences), "level": level}
    return result


# ---------------------------------------------------------------------------------------
# Facts the rules read, computed once.


@dataclass(frozen=True)
class Facts:
    levels: Mapping[str, str]
    n_items: Mapping[str, int]
    passed_labs: frozenset[str]
    passed_lab_subskills: frozenset[str]
    passed_lab_levels: frozenset[str]
    quick_quiz_passed: bool
    placement_done: bool
    practice_passed_subskills: frozenset[str]
    practice_passed: bool
    responses_by_subskill: Mapping[str, tuple[int, int]]
    has_evidence: bool


def _attempt_passed(attempt: AttemptSummary) -> bool:
    if attempt.passed is not None:
        return attempt.passed
    return attempt.percent is not None and attempt.percent >= PASS_PERCENT


def facts_of(evidence: Evidence, prog: Progression, labs: Mapping[str, LabInfo]) -> Facts:
    passed = {slug for slug, result in prog.best.items() if result.passed}
    graded = [a for a in evidence.attempts if a.status != "open"]
    practice_ok = {a.subskill or "" for a in graded if a.kind == "practice" and _attempt_passed(a)}
    counts: dict[str, tuple[int, int]] = {}
    for response in prog.latest.values():
        n, correct = counts.get(response.subskill, (0, 0))
        counts[response.subskill] = (n + 1, correct + (response.score >= CORRECT_SCORE))
    return Facts(
        levels={slug: est.level for slug, est in prog.estimates.items()},
        n_items={slug: est.n_items for slug, est in prog.estimates.items()},
        passed_labs=frozenset(passed),
        passed_lab_subskills=frozenset(prog.best[s].subskill for s in passed),
        passed_lab_levels=frozenset(prog.best[s].level for s in passed),
        quick_quiz_passed=any(a.kind == "quick_quiz" and _attempt_passed(a) for a in graded),
        placement_done=any(a.kind == "placement" and a.status == "submitted" for a in graded),
        practice_passed_subskills=frozenset(practice_ok - {""}),
        practice_passed=bool(practice_ok),
        responses_by_subskill=counts,
        has_evidence=bool(prog.latest or prog.best),
    )


def _at_least(facts: Facts, level: str) -> int:
    return sum(
        1
        for slug, lv in facts.levels.items()
        if facts.n_items.get(slug, 0) > 0 and LEVEL_ORDER.get(lv, 0) >= LEVEL_ORDER[level]
    )


# ---------------------------------------------------------------------------------------
# Learning-path checklist: every tick comes from evidence, never from a "done" button.

ChecklistRule = tuple[str, str, Callable[[Facts], bool]]

STAGE_RULES: Mapping[int, tuple[ChecklistRule, ...]] = {
    1: (
        ("quick-quiz-passed", "Pass the quick quiz (70% or more)", lambda f: f.quick_quiz_passed),
        ("placement-done", "Complete the placement test", lambda f: f.placement_done),
        ("first-lab-passed", "Pass a lab", lambda f: bool(f.passed_labs)),
    ),
    2: (
        (
            "practice-passed",
            "Score 70% or more on a practice quiz",
            lambda f: f.practice_passed,
        ),
        (
            "labs-two-subskills",
            "Pass labs in two sub-skills",
            lambda f: len(f.passed_lab_subskills) >= 2,
        ),
        (
            "intermediate-three",
            f"Reach Intermediate or above in {SUBSKILLS_FOR_STAGE} sub-skills",
            lambda f: _at_least(f, "intermediate") >= SUBSKILLS_FOR_STAGE,
        ),
    ),
    3: (
        (
            "advanced-lab-passed",
            "Pass an advanced or expert lab",
            lambda f: bool(f.passed_lab_levels & {"advanced", "expert"}),
        ),
        (
            "practice-three",
            f"Score 70% or more on practice quizzes in {SUBSKILLS_FOR_STAGE} sub-skills",
            lambda f: len(f.practice_passed_subskills) >= SUBSKILLS_FOR_STAGE,
        ),
        (
            "advanced-three",
            f"Reach Advanced or above in {SUBSKILLS_FOR_STAGE} sub-skills",
            lambda f: _at_least(f, "advanced") >= SUBSKILLS_FOR_STAGE,
        ),
    ),
}


def stage_checklist(
    stages: Sequence[StageInfo], facts: Facts, links: Mapping[tuple[str, int], str]
) -> list[dict[str, Any]]:
    """The path's stages with items ticked from evidence and deliverables ticked by a link."""
    result = []
    for stage in sorted(stages, key=lambda s: s.order):
        items = [
            {"key": key, "label": label, "done": bool(rule(facts))}
            for key, label, rule in STAGE_RULES.get(stage.order, ())
        ]
        deliverables = []
        for index, text in enumerate(stage.deliverables):
            url = links.get((stage.slug, index), "")
            deliverables.append({"index": index, "text": text, "url": url, "done": bool(url)})
            items.append(
                {"key": f"deliverable-{index}", "label": f"Link a deliverable: {text}", "done": bool(url)}
            )
        result.append(
            {
                "slug": stage.slug,
                "title": stage.title,
                "order": stage.order,
                "level": stage.level,
                "items": items,
                "deliverables": deliverables,
                "done": sum(1 for i in items if i["done"]),
                "total": len(items),
            }
        )
    return result


# ---------------------------------------------------------------------------------------
# Red flags: the guide's flags, each shown only when a rule over the evidence fires.


def _no_passed_lab(subskill: str, name: str) -> Callable[[Facts], str | None]:
    def rule(facts: Facts) -> str | None:
        if not facts.has_evidence or subskill in facts.passed_lab_subskills:
            return None
        return f"No {name} lab passed yet."

    return rule


def _low_accuracy(subskill: str, name: str) -> Callable[[Facts], str | None]:
    def rule(facts: Facts) -> str | None:
        n, correct = facts.responses_by_subskill.get(subskill, (0, 0))
        if n < MIN_RESPONSES_FOR_FLAG or correct / n >= LOW_ACCURACY:
            return None
        return f"{correct} of {n} {name} questions answered correctly."

    return rule


def _beginner_estimate(subskill: str, name: str) -> Callable[[Facts], str | None]:
    def rule(facts: Facts) -> str | None:
        if facts.n_items.get(subskill, 0) < MIN_RESPONSES_FOR_FLAG:
            return None
        if facts.levels.get(subskill) != "beginner":
            return None
        return f"Your {name} evidence places you at Beginner."

    return rule


# slug of the guide's red flag -> how the evidence shows it; other flags: a Beginner estimate.
RED_FLAG_RULES: Mapping[str, Callable[[str, str], Callable[[Facts], str | None]]] = {
    "cannot-name-attack-vectors": _low_accuracy,
    "no-security-tooling": _no_passed_lab,
    "ignores-privacy-regulations": _low_accuracy,
    "no-input-validation-or-monitoring": _no_passed_lab,
    "weak-deployment-practices": _low_accuracy,
}


def red_flags(flags: Sequence[RedFlagInfo], facts: Facts, names: Mapping[str, str]) -> list[dict[str, str]]:
    shown = []
    for flag in flags:
        make = RED_FLAG_RULES.get(flag.slug, _beginner_estimate)
        why = make(flag.subskill, names.get(flag.subskill, flag.subskill))(facts)
        if why:
            shown.append(
                {
                    "slug": flag.slug,
                    "text": flag.text,
                    "subskill": flag.subskill,
                    "subskill_name": names.get(flag.subskill, flag.subskill),
                    "remedy": flag.remedy,
                    "why": why,
                }
            )
    return shown


# ---------------------------------------------------------------------------------------
# Next steps.


def next_steps(content: Content, facts: Facts, prog: Progression) -> list[dict[str, str]]:
    """First steps for a new learner; otherwise the weakest sub-skill's next lab and quiz."""
    quizzes_by_kind: dict[str, list[QuizInfo]] = {}
    for quiz in content.quizzes:
        quizzes_by_kind.setdefault(quiz.kind, []).append(quiz)
    labs = sorted(content.labs, key=lambda lab: (LEVEL_ORDER.get(lab.level, 9), lab.slug))
    steps: list[dict[str, str]] = []

    def add(kind: str, title: str, reason: str, url: str) -> None:
        steps.append({"kind": kind, "title": title, "reason": reason, "url": url})

    if not facts.has_evidence:
        for quiz in quizzes_by_kind.get("self_check", [])[:1]:
            add("quiz", quiz.title, "Rate yourself first: it takes two minutes.", quiz.url)
        for quiz in quizzes_by_kind.get("placement", [])[:1]:
            add("quiz", quiz.title, "Find your level in each sub-skill.", quiz.url)
        if labs:
            add("lab", labs[0].title, "Try a hands-on lab: labs count as evidence too.", labs[0].url)
        return steps

    if not facts.placement_done:
        for quiz in quizzes_by_kind.get("placement", [])[:1]:
            add("quiz", quiz.title, "Estimate every sub-skill at once.", quiz.url)
    order = {s.slug: s.order for s in content.subskills}
    names = {s.slug: s.name for s in content.subskills}
    ranked = sorted(
        (slug for slug in order if slug in prog.estimates),
        key=lambda slug: (prog.estimates[slug].theta, order[slug]),
    )
    for slug in ranked:
        lab = next((x for x in labs if x.subskill == slug and x.slug not in facts.passed_labs), None)
        practice = next((q for q in quizzes_by_kind.get("practice", []) if q.subskill == slug), None)
        if lab is None and practice is None:
            continue
        reason = f"{names[slug]} is your weakest sub-skill so far."
        if lab is not None:
            add("lab", lab.title, reason, lab.url)
        if practice is not None:
            add("quiz", practice.title, reason, practice.url)
        break
    return steps


# ---------------------------------------------------------------------------------------
# Coverage of MITRE ATLAS and the OWASP ML Top 10.


def coverage(
    evidence: Evidence, prog: Progression, labs: Mapping[str, LabInfo], atlas_names: Mapping[str, str]
) -> dict[str, Any]:
    """Ids practised: from passed labs and from correctly answered items' references."""
    atlas: dict[str, set[str]] = {}
    owasp: dict[str, set[str]] = {}
    ref_names: dict[str, str] = {}
    for slug, result in prog.best.items():
        lab = labs.get(slug)
        if not result.passed or lab is None:
            continue
        for atlas_id in lab.atlas:
            atlas.setdefault(atlas_id, set()).add("lab")
        for owasp_id in lab.owasp:
            owasp.setdefault(owasp_id, set()).add("lab")
    for key, response in prog.latest.items():
        if response.score < CORRECT_SCORE:
            continue
        for ref in evidence.item_references.get(key, ()):
            if "atlas" in ref:
                atlas.setdefault(str(ref["atlas"]), set()).add("quiz")
                if ref.get("name"):
                    ref_names[str(ref["atlas"])] = str(ref["name"])
            elif "owasp" in ref:
                owasp.setdefault(str(ref["owasp"]), set()).add("quiz")
    return {
        "atlas": [
            {
                "id": atlas_id,
                "name": atlas_names.get(atlas_id) or ref_names.get(atlas_id) or atlas_id,
                "sources": sorted(atlas[atlas_id]),
            }
            for atlas_id in sorted(atlas)
        ],
        "owasp": [
            {
                "id": owasp_id,
                "name": name,
                "practised": owasp_id in owasp,
                "sources": sorted(owasp.get(owasp_id, ())),
            }
            for owasp_id, name in OWASP_ML_TOP_10
        ],
        "atlas_count": len(atlas),
        "owasp_count": sum(1 for owasp_id, _name in OWASP_ML_TOP_10 if owasp_id in owasp),
    }


# ---------------------------------------------------------------------------------------
# The report.


def _last_activity(evidence: Evidence) -> datetime | None:
    moments: list[datetime] = [r.answered_at for r in evidence.responses]
    moments += [a.submitted_at or a.started_at for a in evidence.attempts]
    moments += [s.created_at for s in evidence.recent_submissions]
    moments += [r.at for r in evidence.lab_results]
    return max(moments) if moments else None


def build_progress(evidence: Evidence, content: Content, *, now: datetime) -> dict[str, Any]:
    """The learner's whole progress as JSON-ready data (see the module docstring)."""
    slugs = [s.slug for s in sorted(content.subskills, key=lambda s: s.order)]
    weights = {s.slug: float(s.weight) for s in content.subskills}
    names = {s.slug: s.name for s in content.subskills}
    labs = {lab.slug: lab for lab in content.labs}
    attempt_times = {a.id: a.submitted_at for a in evidence.attempts if a.submitted_at}
    events = ordered_events(evidence.responses, attempt_times, evidence.lab_results)
    prog = progression(events, subskills=slugs, weights=weights)
    facts = facts_of(evidence, prog, labs)
    self_assessed = self_assessed_levels(evidence.self_ratings)
    lab_checks = dict.fromkeys(slugs, 0)
    for result in prog.best.values():
        lab_checks[result.subskill] = lab_checks.get(result.subskill, 0) + len(result.checks)
    item_counts = dict.fromkeys(slugs, 0)
    for response in prog.latest.values():
        item_counts[response.subskill] = item_counts.get(response.subskill, 0) + 1

    subskills = []
    for info in sorted(content.subskills, key=lambda s: s.order):
        est = prog.estimates[info.slug]
        mine = self_assessed.get(info.slug)
        subskills.append(
            {
                "slug": info.slug,
                "name": info.name,
                "estimate": {
                    **_no_negative_zero(est.as_dict()),
                    "level_name": content.level_names.get(est.level, est.level),
                },
                "position": round(theta_position(est.theta), 4),
                "n_quiz_items": item_counts.get(info.slug, 0),
                "n_lab_checks": lab_checks.get(info.slug, 0),
                "self_assessed": None
                if mine is None
                else {**mine, "level_name": content.level_names.get(mine["level"], mine["level"])},
            }
        )

    lab_rows = []
    for slug, result in sorted(prog.best.items(), key=lambda pair: pair[1].at):
        lab = labs.get(slug)
        lab_rows.append(
            {
                "slug": slug,
                "title": lab.title if lab else slug,
                "subskill": result.subskill,
                "level": result.level,
                "best_score": round(result.score, 2),
                "passed": result.passed,
                "graded_submissions": evidence.graded_counts.get(slug, 0),
                "submission_id": result.submission_id,
                "url": lab.url if lab else "",
            }
        )

    attempts = sorted(evidence.attempts, key=lambda a: a.submitted_at or a.started_at, reverse=True)
    overall_level = band_of(prog.overall).slug
    last = _last_activity(evidence)
    return {
        "version": REPORT_VERSION,
        "computed_at": now.isoformat(),
        "is_new": evidence.is_empty,
        "last_activity": _iso(last),
        "overall": {
            "theta": round(prog.overall, 4) + 0.0,
            "level": overall_level,
            "level_name": content.level_names.get(overall_level, overall_level),
            "position": round(theta_position(prog.overall), 4),
        },
        "subskills": subskills,
        "self_check_at": _iso(evidence.self_check_at),
        "timeline": [
            {
                "at": point.at.isoformat(),
                "label": point.label,
                "overall": round(point.overall, 4) + 0.0,
                "thetas": {
                    slug: round(theta, 4) + 0.0 for slug, theta in point.thetas.items() if slug in names
                },
            }
            for point in prog.timeline
        ],
        "labs": lab_rows,
        "stages": stage_checklist(content.stages, facts, evidence.deliverable_links),
        "history": {
            "attempts": [
                {
                    "id": a.id,
                    "quiz": a.quiz_slug,
                    "title": a.quiz_title,
                    "kind": a.kind,
                    "status": a.status,
                    "at": _iso(a.submitted_at or a.started_at),
                    "percent": None if a.percent is None else round(100 * a.percent, 1),
                    "url": a.url,
                }
                for a in attempts[:HISTORY_LIMIT]
            ],
            "attempt_total": len(attempts),
            "submissions": [
                {
                    "id": s.id,
                    "lab": s.lab_slug,
                    "title": s.lab_title,
                    "mode": s.mode,
                    "status": s.status,
                    "score": s.score,
                    "passed": s.passed,
                    "at": _iso(s.created_at),
                    "url": s.url,
                }
                for s in evidence.recent_submissions[:HISTORY_LIMIT]
            ],
            "submission_total": evidence.submission_total,
        },
        "next_steps": next_steps(content, facts, prog),
        "red_flags": red_flags(content.red_flags, facts, names),
        "coverage": coverage(evidence, prog, labs, content.atlas_names),
    }
