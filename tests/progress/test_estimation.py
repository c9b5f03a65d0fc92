"""The evidence model's maths: quiz items and lab checks move one estimate per sub-skill."""

from datetime import UTC, datetime, timedelta

import pytest

from mlrange.assessments.irt import Observation, estimate
from mlrange.progress.estimation import (
    LAB_CHECK_A,
    LAB_LEVEL_B,
    CheckResult,
    ItemResponse,
    LabResult,
    downsample,
    lab_check_observations,
    ordered_events,
    progression,
    theta_position,
)

SUBSKILLS = ["model-security", "data-security"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def response(key, score, *, attempt=1, minutes=0, subskill="model-security", a=1.2, b=0.0):
    return ItemResponse(key, subskill, a, b, score, T0 + timedelta(minutes=minutes), attempt)


def lab(slug, score, fractions, *, level="intermediate", minutes=0, subskill="model-security"):
    checks = tuple(CheckResult(f"c{i}", 10 * f, 10) for i, f in enumerate(fractions))
    return LabResult(
        f"{slug}-{minutes}",
        slug,
        subskill,
        level,
        score,
        score >= 100,
        T0 + timedelta(minutes=minutes),
        checks,
    )


def run(responses=(), labs=(), times=None):
    return progression(ordered_events(responses, times or {}, labs), subskills=SUBSKILLS)


def test_no_evidence_gives_the_prior():
    prog = run()
    est = prog.estimates["model-security"]
    assert est.theta == pytest.approx(0.0, abs=1e-9)
    assert est.se == pytest.approx(1.0, abs=0.02)
    assert est.n_items == 0
    assert prog.timeline == []


def test_correct_quiz_answers_raise_the_estimate_and_wrong_ones_lower_it():
    right = run([response(f"i{i}", 1.0) for i in range(4)]).estimates["model-security"]
    wrong = run([response(f"i{i}", 0.0) for i in range(4)]).estimates["model-security"]
    assert right.theta > 0.5
    assert wrong.theta < -0.5
    assert right.n_items == wrong.n_items == 4


def test_evidence_in_one_subskill_leaves_the_others_at_the_prior():
    prog = run([response("i1", 1.0, subskill="data-security")])
    assert prog.estimates["data-security"].theta > 0
    assert prog.estimates["model-security"].theta == pytest.approx(0.0, abs=1e-9)


def test_lab_checks_are_observations_at_the_centre_of_the_labs_level_band():
    observations = lab_check_observations(lab("x", 50, [1.0, 0.0], level="advanced"))
    assert observations == [
        Observation(LAB_CHECK_A, LAB_LEVEL_B["advanced"], 1.0),
        Observation(LAB_CHECK_A, LAB_LEVEL_B["advanced"], 0.0),
    ]
    assert LAB_LEVEL_B == {"beginner": -1.5, "intermediate": -0.5, "advanced": 0.5, "expert": 1.5}


def test_partial_check_points_become_a_fractional_score():
    (obs,) = lab_check_observations(lab("x", 25, [0.25]))
    assert obs.score == pytest.approx(0.25)


def test_a_passed_lab_raises_the_estimate_and_a_failed_one_lowers_it():
    passed = run(labs=[lab("x", 100, [1.0, 1.0])]).estimates["model-security"]
    failed = run(labs=[lab("x", 0, [0.0, 0.0])]).estimates["model-security"]
    assert passed.theta > 0.2
    assert failed.theta < -0.5


def test_passing_a_harder_lab_is_stronger_evidence_than_passing_an_easier_one():
    easy = run(labs=[lab("x", 100, [1.0, 1.0], level="beginner")]).estimates["model-security"]
    hard = run(labs=[lab("x", 100, [1.0, 1.0], level="expert")]).estimates["model-security"]
    assert hard.theta > easy.theta


def test_quiz_and_lab_evidence_combine_in_one_estimate():
    quiz_only = run([response("i1", 1.0)]).estimates["model-security"]
    both = run([response("i1", 1.0)], [lab("x", 100, [1.0, 1.0])]).estimates["model-security"]
    assert both.n_items == 3
    assert both.theta > quiz_only.theta


def test_only_the_latest_response_to_an_item_counts():
    prog = run([response("i1", 0.0, attempt=1, minutes=0), response("i1", 1.0, attempt=2, minutes=10)])
    assert prog.estimates["model-security"].n_items == 1
    assert prog.estimates["model-security"].theta == pytest.approx(
        estimate([Observation(1.2, 0.0, 1.0)]).theta
    )


def test_only_the_best_graded_submission_to_a_lab_counts():
    prog = run(labs=[lab("x", 100, [1.0, 1.0], minutes=0), lab("x", 0, [0.0, 0.0], minutes=5)])
    assert prog.best["x"].score == 100
    assert prog.estimates["model-security"].n_items == 2
    assert prog.estimates["model-security"].theta > 0


def test_final_estimates_equal_the_irt_module_on_the_kept_observations():
    responses = [response("i1", 1.0, a=0.8, b=-1), response("i2", 0.5, a=1.6, b=0.7, minutes=1)]
    labs = [lab("x", 50, [1.0, 0.0], level="advanced", minutes=2)]
    prog = run(responses, labs)
    expected = estimate(
        [Observation(0.8, -1, 1.0), Observation(1.6, 0.7, 0.5), *lab_check_observations(labs[0])]
    )
    got = prog.estimates["model-security"]
    assert got.theta == pytest.approx(expected.theta, abs=1e-9)
    assert got.se == pytest.approx(expected.se, abs=1e-9)
    assert got.level == expected.level
    assert got.confidence == pytest.approx(expected.confidence, abs=1e-9)


def test_the_timeline_has_a_point_per_event_and_ends_at_the_final_estimate():
    times = {1: T0 + timedelta(minutes=1), 2: T0 + timedelta(minutes=30)}
    responses = [response("i1", 1.0, attempt=1), response("i2", 1.0, attempt=2, minutes=29)]
    prog = run(responses, [lab("x", 100, [1.0], minutes=10)], times)
    assert [p.label for p in prog.timeline] == ["quiz attempt 1", "lab x", "quiz attempt 2"]
    thetas = [p.thetas["model-security"] for p in prog.timeline]
    assert thetas == sorted(thetas)
    assert thetas[-1] == pytest.approx(prog.estimates["model-security"].theta)


def test_downsampling_keeps_the_first_and_last_points():
    prog = run([response(f"i{i}", 1.0, attempt=i, minutes=i) for i in range(200)])
    assert len(prog.timeline) == 60
    assert prog.timeline[0].label == "quiz attempt 0"
    assert prog.timeline[-1].label == "quiz attempt 199"
    assert downsample([1, 2, 3], 60) == [1, 2, 3]  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("theta", "position"), [(-3.0, 0.0), (-1.0, 0.25), (0.0, 0.5), (1.0, 0.75), (5.0, 1.0)]
)
def test_theta_maps_onto_the_radar_with_a_quarter_per_level_band(theta, position):
    assert theta_position(theta) == pytest.approx(position)
