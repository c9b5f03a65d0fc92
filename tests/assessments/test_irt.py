"""The 2PL/EAP math against hand-computed values, selection, stopping, calibration."""

# ruff: noqa: S311 -- seeded, reproducible simulations; nothing here is cryptographic

import math
import random

import pytest

from mlrange.assessments.adaptive import BankItem, PlacementSettings, PlacementState
from mlrange.assessments.irt import (
    Candidate,
    Observation,
    Posterior,
    estimate,
    fit_item,
    information,
    interval_within_one_band,
    p_correct,
    point_biserial,
    select_randomesque,
)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_p_correct_is_one_half_at_the_difficulty():
    assert p_correct(0.7, 1.3, 0.7) == pytest.approx(0.5)
    assert p_correct(1.0, 1.0, 0.0) == pytest.approx(sigmoid(1.0))


def test_information_is_a_squared_p_q():
    p = sigmoid(1.5 * (0.2 - (-0.3)))
    assert information(0.2, 1.5, -0.3) == pytest.approx(1.5**2 * p * (1 - p))
    assert information(0.0, 2.0, 0.0) == pytest.approx(1.0)


def test_eap_on_a_three_point_grid_matches_the_hand_computation():
    # Prior weights e^{-1/2}, 1, e^{-1/2} on -1, 0, 1; one correct answer to a=1, b=0.
    posterior = Posterior(grid=[-1.0, 0.0, 1.0])
    posterior.update(Observation(a=1.0, b=0.0, score=1.0))
    mean, sd = posterior.mean_sd()
    w = [math.exp(-0.5) * sigmoid(-1), 0.5, math.exp(-0.5) * sigmoid(1)]
    expected_mean = (w[2] - w[0]) / sum(w)
    assert mean == pytest.approx(expected_mean)
    assert mean == pytest.approx(0.25330, abs=1e-5)
    expected_var = (w[0] * (-1 - mean) ** 2 + w[1] * mean**2 + w[2] * (1 - mean) ** 2) / sum(w)
    assert sd == pytest.approx(math.sqrt(expected_var))


def test_eap_without_answers_is_the_standard_normal_prior():
    est = estimate([])
    assert est.theta == pytest.approx(0.0, abs=1e-9)
    assert est.se == pytest.approx(1.0, abs=0.01)
    assert est.ci_low == pytest.approx(-1.645, abs=0.03)
    assert est.ci_high == pytest.approx(1.645, abs=0.03)


def test_eap_with_one_correct_answer_matches_fine_numerical_integration():
    est = estimate([Observation(a=1.0, b=0.0, score=1.0)])
    grid = [-8 + 16 * i / 20000 for i in range(20001)]
    weights = [math.exp(-0.5 * t * t) * sigmoid(t) for t in grid]
    mean = sum(w * t for w, t in zip(weights, grid, strict=True)) / sum(weights)
    assert est.theta == pytest.approx(mean, abs=2e-3)
    assert est.theta == pytest.approx(0.41, abs=0.01)


def test_a_half_credit_response_counts_as_half_a_success():
    half = estimate([Observation(1.0, 0.0, 0.5)])
    assert half.theta == pytest.approx(0.0, abs=1e-9)
    both = estimate([Observation(1.0, 0.0, 1.0), Observation(1.0, 0.0, 0.0)])
    assert both.theta == pytest.approx(0.0, abs=1e-9)
    assert both.se < half.se


def test_confidence_is_the_posterior_mass_in_the_level_band():
    est = estimate([Observation(1.5, 1.5, 1.0)] * 6)
    assert est.level == "expert"
    posterior = Posterior()
    for _ in range(6):
        posterior.update(Observation(1.5, 1.5, 1.0))
    assert est.confidence == pytest.approx(posterior.mass_between(1.0, math.inf))
    assert 0.5 < est.confidence <= 1.0


def test_select_with_top_k_1_picks_the_maximum_information_item():
    items = [Candidate("low", 1.0, -2.0), Candidate("near", 1.0, 0.4), Candidate("sharp", 2.0, 0.9)]
    chosen = select_randomesque(0.5, items, rng=random.Random(1), top_k=1)
    assert chosen is not None
    # information(0.5, 2, 0.9) = 4 p q with p = sigmoid(-0.8) ~ 0.86 > information of "near" ~ 0.25
    assert chosen.id == "sharp"


def test_randomesque_only_picks_among_the_top_k():
    items = [Candidate(f"i{k}", 1.0, k / 2) for k in range(-6, 7)]
    picks = {select_randomesque(0.0, items, rng=random.Random(s), top_k=3).id for s in range(200)}
    assert picks == {"i-1", "i0", "i1"}


def test_credible_interval_inside_one_band():
    narrow = estimate([Observation(2.0, -2.0, 0.0)] * 5)
    assert narrow.level == "beginner"
    assert interval_within_one_band(narrow)
    assert not interval_within_one_band(estimate([]))


def _bank(n=20):
    return {
        "model-security": [BankItem(f"m{i}", "model-security", 1.0, -2 + i / 5) for i in range(n)],
        "data-security": [BankItem(f"d{i}", "data-security", 1.0, -2 + i / 5) for i in range(n)],
    }


def test_placement_stops_at_max_items_and_interleaves_subskills():
    state = PlacementState(_bank(), PlacementSettings(min_items=3, max_items=5, top_k=1))
    order = []
    rng = random.Random(3)
    while (item := state.next_item(rng)) is not None:
        order.append(item.subskill)
        state.record(item, 1.0 if len(order) % 2 else 0.0)
    assert order[:4] == ["model-security", "data-security", "model-security", "data-security"]
    assert state.n_items("model-security") <= 5
    assert state.n_items("data-security") <= 5


def test_placement_stops_after_min_items_once_the_level_mass_reaches_the_threshold():
    bank = {"model-security": _bank(40)["model-security"]}
    state = PlacementState(bank, PlacementSettings(min_items=4, max_items=15, top_k=1, stop_mass=0.8))
    rng = random.Random(0)
    while (item := state.next_item(rng)) is not None:
        state.record(item, 0.0)  # always wrong: clearly a beginner
    est = state.estimate("model-security")
    assert est.level == "beginner"
    assert est.confidence >= 0.8
    n = state.n_items("model-security")
    assert 4 <= n < 15


def test_placement_never_stops_before_min_items():
    bank = {"model-security": [BankItem(f"m{i}", "model-security", 3.0, -3.5) for i in range(10)]}
    state = PlacementState(bank, PlacementSettings(min_items=4, max_items=15, top_k=1))
    rng = random.Random(0)
    for _ in range(3):
        item = state.next_item(rng)
        assert item is not None
        state.record(item, 0.0)
    assert state.estimate("model-security").confidence >= 0.8
    assert state.next_item(rng) is not None


def test_fit_item_moves_a_misset_difficulty_toward_the_truth():
    rng = random.Random(7)
    thetas = [rng.gauss(0, 1) for _ in range(600)]
    scores = [1.0 if rng.random() < p_correct(t, 1.2, -0.5) else 0.0 for t in thetas]
    a, b = fit_item(thetas, scores, a0=1.0, b0=1.5)
    assert abs(b - (-0.5)) < 0.2
    assert abs(a - 1.2) < 0.35


def test_point_biserial_is_pearson_and_none_when_constant():
    assert point_biserial([0, 1, 1, 0], [-1.0, 1.0, 0.5, -0.5]) == pytest.approx(1.5 / math.sqrt(2.5))
    assert point_biserial([1, 1, 1], [0.0, 1.0, 2.0]) is None


def test_guessing_floor_lifts_the_curve_and_halves_the_slope_at_the_difficulty():
    assert p_correct(-30.0, 1.0, 0.0, 0.25) == pytest.approx(0.25)
    assert p_correct(0.0, 1.0, 0.0, 0.25) == pytest.approx(0.625)
    assert p_correct(0.4, 1.3, 0.1, 0.0) == pytest.approx(sigmoid(1.3 * 0.3))


def test_information_with_a_guessing_floor_matches_the_3pl_formula_and_is_smaller():
    a, b, c, theta = 1.4, 0.2, 0.5, 0.6
    p_star = sigmoid(a * (theta - b))
    p = c + (1 - c) * p_star
    expected = a**2 * ((p - c) / (1 - c)) ** 2 * (1 - p) / p  # the textbook 3PL information
    assert information(theta, a, b, c) == pytest.approx(expected)
    assert information(theta, a, b, c) < information(theta, a, b)
    assert information(theta, a, b, 0.0) == pytest.approx(a**2 * p_star * (1 - p_star))


def test_a_right_answer_to_a_guessable_item_counts_for_less():
    unguessable = estimate([Observation(1.0, 0.0, 1.0)])
    true_false = estimate([Observation(1.0, 0.0, 1.0, c=0.5)])
    assert 0.0 < true_false.theta < unguessable.theta
    # A wrong answer cannot be a lucky guess: it is evidence either way.
    assert estimate([Observation(1.0, 0.0, 0.0, c=0.5)]).theta < 0.0


def test_selection_prefers_the_item_that_cannot_be_guessed():
    items = [Candidate("true-false", 1.2, 0.0, 0.5), Candidate("numeric", 1.2, 0.0, 0.0)]
    assert select_randomesque(0.0, items, rng=random.Random(0), top_k=1).id == "numeric"


def test_fit_item_with_the_guessing_floor_recovers_the_difficulty_that_ignoring_it_misses():
    rng = random.Random(11)
    thetas = [rng.gauss(0, 1) for _ in range(3000)]
    scores = [1.0 if rng.random() < p_correct(t, 1.2, 0.3, 0.25) else 0.0 for t in thetas]
    a, b = fit_item(thetas, scores, a0=1.0, b0=0.0, c=0.25)
    assert abs(b - 0.3) < 0.2
    assert abs(a - 1.2) < 0.35
    _, b_blind = fit_item(thetas, scores, a0=1.0, b0=0.0)
    assert b_blind < 0.0  # lucky guesses make the item look easier than it is


def test_placement_holds_back_over_exposed_items_unless_nothing_else_is_left():
    bank = {
        "model-security": [
            BankItem("sharp", "model-security", 2.0, 0.0),
            BankItem("dull", "model-security", 0.6, 1.5),
        ]
    }
    settings = PlacementSettings(top_k=1, max_exposure=0.6)
    assert PlacementState(bank, settings).next_item(random.Random(0)).id == "sharp"
    held = PlacementState(bank, settings, exposure={"sharp": 0.6})
    assert held.next_item(random.Random(0)).id == "dull"
    everything_over = PlacementState(bank, settings, exposure={"sharp": 0.9, "dull": 0.7})
    assert everything_over.next_item(random.Random(0)).id == "sharp"
