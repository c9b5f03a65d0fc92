"""Score and pass of a graded submission, computed from the lab's manifest (one source of truth).

A grader reports what it found: checks (``id``, ``title``, ``passed``, ``feedback``) and
metrics. It declares no points: a check whose ``id`` is one of the manifest's ``tiers`` is
worth that tier's ``points`` when it passed; any other check is a validity check worth
nothing. The score is the sum of the awarded tiers, ``passed`` is ``score >= pass_points``.
The report is bounded whatever the grader was made to say (the learner's code ran beside it).
"""

import math
from collections.abc import Iterable
from typing import Any

from mlrange.labs.registry import LabTier

MAX_CHECKS = 32
MAX_FEEDBACK_CHARS = 1500
MAX_TITLE_CHARS = 200
MAX_ID_CHARS = 64
MAX_METRICS = 64


class ReportError(ValueError):
    """The grader's report is malformed (the grader's fault, never the learner's)."""


def _clean_text(value: Any, limit: int) -> str:
    """Printable text within ``limit`` characters: a grader report is shown as is."""
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch in "\n\t")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ReportError(f"a check must be a mapping, not {type(raw).__name__}")
    passed = raw["passed"]
    if not isinstance(passed, bool):
        raise ReportError(f"check {raw['id']!r}: passed must be true or false")
    return {
        "id": _clean_text(raw["id"], MAX_ID_CHARS),
        "title": _clean_text(raw["title"], MAX_TITLE_CHARS),
        "passed": passed,
        "feedback": _clean_text(raw.get("feedback", ""), MAX_FEEDBACK_CHARS),
    }


def awarded_tiers(checks: Iterable[dict[str, Any]], tiers: Iterable[LabTier]) -> tuple[str, ...]:
    """Ids of the tiers that earn their points: reported, and every check of that id passed."""
    checks = list(checks)
    awarded = []
    for tier in tiers:
        mine = [c for c in checks if c["id"] == tier.id]
        if mine and all(c["passed"] for c in mine):
            awarded.append(tier.id)
    return tuple(awarded)


def score_report(report: Any, *, tiers: Iterable[LabTier], pass_points: float) -> dict[str, Any]:
    """The stored result of a grader report: checks with points from the manifest, score, passed.

    Raises ReportError when the report is malformed: not a mapping, more than MAX_CHECKS checks,
    a check without id, title or a boolean passed, more than MAX_METRICS metrics or one that is
    not a finite number."""
    tiers = tuple(tiers)
    try:
        raw_checks = list(report["checks"])
        if len(raw_checks) > MAX_CHECKS:
            raise ReportError(f"{len(raw_checks)} checks, more than {MAX_CHECKS}")
        checks = [_check(c) for c in raw_checks]
        metrics = {_clean_text(k, MAX_ID_CHARS): float(v) for k, v in dict(report.get("metrics", {})).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"grader report malformed: {exc}") from exc
    if len(metrics) > MAX_METRICS or not all(math.isfinite(v) for v in metrics.values()):
        raise ReportError("grader report malformed: too many metrics, or one that is not a finite number")
    points = {tier.id: float(tier.points) for tier in tiers}
    awarded = set(awarded_tiers(checks, tiers))
    for check in checks:
        worth = points.get(check["id"], 0.0)
        check["max_points"] = worth
        check["points"] = worth if check["id"] in awarded else 0.0
    score = round(min(100.0, sum(points[tier_id] for tier_id in awarded)), 2)
    return {"score": score, "passed": score >= pass_points, "checks": checks, "metrics": metrics}
