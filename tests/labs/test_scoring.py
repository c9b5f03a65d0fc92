"""Score and pass come from the manifest's tiers, whatever points a grader might claim."""

import pytest

from mlrange.labs.registry import LabTier
from mlrange.labs.scoring import MAX_CHECKS, MAX_METRICS, ReportError, awarded_tiers, score_report

TIERS = (
    LabTier(id="clean", title="Clean", points=20, description=""),
    LabTier(id="robust", title="Robust", points=50, description=""),
    LabTier(id="genuine", title="Genuine", points=30, description=""),
)


def _check(check_id: str, passed: bool, **extra) -> dict:
    return {"id": check_id, "title": check_id.title(), "passed": passed, "feedback": "why", **extra}


def test_score_is_the_sum_of_the_manifest_points_of_the_passed_tiers():
    report = {
        "checks": [
            _check("model-file", True),
            _check("clean", True),
            _check("robust", True),
            _check("genuine", False),
        ],
        "metrics": {"clean_accuracy": 0.98},
    }
    result = score_report(report, tiers=TIERS, pass_points=100)
    assert result["score"] == 70
    assert result["passed"] is False
    by_id = {c["id"]: c for c in result["checks"]}
    assert (by_id["clean"]["points"], by_id["clean"]["max_points"]) == (20, 20)
    assert (by_id["genuine"]["points"], by_id["genuine"]["max_points"]) == (0, 30)
    assert (by_id["model-file"]["points"], by_id["model-file"]["max_points"]) == (0, 0)
    assert result["metrics"] == {"clean_accuracy": 0.98}


def test_pass_compares_the_score_with_pass_points():
    report = {"checks": [_check("clean", True), _check("robust", True)], "metrics": {}}
    assert score_report(report, tiers=TIERS, pass_points=70)["passed"] is True
    assert score_report(report, tiers=TIERS, pass_points=70.5)["passed"] is False


def test_points_or_a_score_claimed_by_the_grader_are_ignored():
    report = {
        "score": 100,
        "passed": True,
        "checks": [_check("clean", False, points=20, max_points=20), _check("bonus", True, points=100)],
        "metrics": {},
    }
    result = score_report(report, tiers=TIERS, pass_points=10)
    assert result["score"] == 0
    assert result["passed"] is False


def test_a_tier_reported_twice_counts_once_and_only_if_every_report_of_it_passed():
    twice = [_check("robust", True), _check("robust", True)]
    assert score_report({"checks": twice}, tiers=TIERS, pass_points=100)["score"] == 50
    mixed = [_check("robust", True), _check("robust", False)]
    assert awarded_tiers(mixed, TIERS) == ()


@pytest.mark.parametrize(
    "report",
    [
        [],
        {"metrics": {}},
        {"checks": [_check("clean", True)] * (MAX_CHECKS + 1)},
        {"checks": [{"id": "clean", "title": "Clean", "passed": "yes"}]},
        {"checks": [{"title": "no id", "passed": True}]},
        {"checks": ["clean"]},
        {"checks": [], "metrics": {"x": float("nan")}},
        {"checks": [], "metrics": {f"m{i}": 1.0 for i in range(MAX_METRICS + 1)}},
        {"checks": [], "metrics": {"x": "high"}},
    ],
)
def test_a_malformed_report_is_refused(report):
    with pytest.raises(ReportError):
        score_report(report, tiers=TIERS, pass_points=100)


def test_text_is_bounded_and_printable():
    report = {"checks": [{"id": "x" * 500, "title": "t\x07" * 500, "passed": True, "feedback": "f" * 10_000}]}
    (check,) = score_report(report, tiers=TIERS, pass_points=100)["checks"]
    assert len(check["id"]) <= 64
    assert len(check["title"]) <= 200
    assert "\x07" not in check["title"]
    assert len(check["feedback"]) <= 1500
