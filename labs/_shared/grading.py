"""Building the result dict every grader returns (see labs/_schema.md, "Grader contract")."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    """One line of feedback; tier checks carry points, validity checks carry none."""

    id: str
    title: str
    passed: bool
    points: float
    max_points: float
    feedback: str


def grade_result(checks: list[Check], metrics: dict[str, float], *, pass_points: float) -> dict:
    """Score = sum of points of passed checks, capped to 0..100; passed = score >= pass_points."""
    score = min(100.0, max(0.0, sum(c.points for c in checks if c.passed)))
    return {
        "score": round(score, 2),
        "passed": score >= pass_points,
        "checks": [asdict(c) for c in checks],
        "metrics": {name: float(value) for name, value in metrics.items()},
    }
