"""Building the report every grader returns (see labs/_schema.md, "Grader").

A grader says what it found, never what it is worth: each check passed or not, with feedback.
A check whose id is a tier of the lab's manifest earns that tier's points; the platform sums
them and compares with the manifest's `pass_points` (mlrange.labs.scoring), so the points are
written once, in the manifest.
"""

from dataclasses import asdict, dataclass

NOT_SCORED = "Not scored: fix the file check above first."


@dataclass(frozen=True)
class Check:
    """One line of feedback: a tier (its id is a manifest tier's) or a validity check."""

    id: str
    title: str
    passed: bool
    feedback: str


def not_scored(tier_id: str, title: str, feedback: str = NOT_SCORED) -> Check:
    """A tier that could not be measured (an artifact or the learner's code failed first)."""
    return Check(tier_id, title, False, feedback)


def grade_result(checks: list[Check], metrics: dict[str, float]) -> dict:
    """The grader's report: its checks in order and its metrics as floats."""
    return {
        "checks": [{**asdict(c), "passed": bool(c.passed)} for c in checks],
        "metrics": {name: float(value) for name, value in metrics.items()},
    }
