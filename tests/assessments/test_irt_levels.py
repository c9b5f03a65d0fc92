"""Level decision, correlated sub-skill prior and level-targeted selection against hand computations."""

# ruff: noqa: S311 -- seeded, reproducible simulations; nothing here is cryptographic

import math
import random

import pytest

from mlrange.assessments.adaptive import BankItem, PlacementSettings, PlacementState, placement_estimates
from mlrange.assessments.irt import (
    LEVEL_BANDS,
    Candidate,
    JointPosterior,
    Observation,
    Posterior,
    band_fractions,
    decide_level,
    estimate,
    level_information,
    p_correct,
    rank_by_level_information,
)


def entropy(p):
    return -p * math.log(p) - (1 - p) * math.log(1 - p)


def test_level_is_the_band_with_most_mass_not_the_band_of_the_mean():
    # Cells of width 1 around -1.5, -0.5, 0.5, 1.5 each lie inside one band.
    posterior = Posterior.from_weights([-1.5, -0.5, 0.5, 1.5], [0.45, 0.0, 0.25, 0.30], n=3)
    mean, _ = posterior.mean_sd()
    assert mean == pytest.approx(0.45 * -1.5 + 0.25 * 0.5 + 0.30 * 1.5)  # -0.1: intermediate
    est = posterior.estimate()
    assert (est.level, est.confidence) == ("beginner", pytest.approx(0.45))
    assert est.n_items == 3


def test_band_fractions_split_straddling_cells_by_length():
    # Cells [-1.5, -0.5], [-0.5, 0.5], [0.5, 1.5]; band edges at -1, 0, 1.
    fractions = band_fractions((-1.0, 0.0, 1.0), LEVEL_BANDS)
    assert fractions == (
        (0.5, 0.0, 0.0),
        (0.5, 0.5, 0.0),
        (0.0, 0.5, 0.5),
        (0.0, 0.0, 0.5),
    )


def test_decide_level_breaks_an_exact_tie_toward_the_lower_band():
    band, mass = decide_level([0.1, 0.4, 0.4, 0.1])
    assert (band.slug, mass) == ("intermediate", 0.4)


def test_joint_posterior_without_correlation_is_the_independent_eap():
    rng = random.Random(5)
    observations = {
        slug: [
            Observation(rng.uniform(0.8, 1.5), rng.uniform(-2, 2), float(rng.random() < 0.5))
            for _ in range(5)
        ]
        for slug in ("a", "b", "c")
    }
    joint = JointPosterior(list(observations), correlation=0.0)
    for slug, observed in observations.items():
        for obs in observed:
            joint.update(slug, obs)
    for slug, observed in observations.items():
        alone = estimate(observed)
        together = joint.marginal(slug).estimate()
        assert together.theta == pytest.approx(alone.theta, abs=1e-12)
        assert together.se == pytest.approx(alone.se, abs=1e-12)
        assert (together.level, together.confidence) == (alone.level, pytest.approx(alone.confidence))


def test_joint_posterior_matches_brute_force_enumeration_on_a_tiny_grid():
    # theta grid {-1, 0, 1}, factor grid {-1, 1}, rho = 0.64: theta | g ~ N(0.8 g, 0.36),
    # normalised over the theta grid. One correct answer on "a" (a=1, b=0), one wrong on "b" (a=2, b=0.5).
    grid, factors, rho = [-1.0, 0.0, 1.0], [-1.0, 1.0], 0.64
    joint = JointPosterior(["a", "b"], correlation=rho, grid=grid, factor_grid=factors)
    joint.update("a", Observation(1.0, 0.0, 1.0))
    joint.update("b", Observation(2.0, 0.5, 0.0))

    def kernel(t, g):
        raw = [math.exp(-0.5 * (u - 0.8 * g) ** 2 / 0.36) for u in grid]
        return math.exp(-0.5 * (t - 0.8 * g) ** 2 / 0.36) / sum(raw)

    def lik_a(t):
        return p_correct(t, 1.0, 0.0)

    def lik_b(t):
        return 1 - p_correct(t, 2.0, 0.5)

    # p(g) is N(0, 1) on {-1, 1}: equal weights.
    joint_mass = {
        (t1, t2): sum(kernel(t1, g) * kernel(t2, g) for g in factors) * lik_a(t1) * lik_b(t2)
        for t1 in grid
        for t2 in grid
    }
    total = sum(joint_mass.values())
    expected_a = [sum(joint_mass[(t1, t2)] for t2 in grid) / total for t1 in grid]
    expected_b = [sum(joint_mass[(t1, t2)] for t1 in grid) / total for t2 in grid]
    assert joint.marginal("a").weights() == pytest.approx(expected_a, abs=1e-12)
    assert joint.marginal("b").weights() == pytest.approx(expected_b, abs=1e-12)


def test_correlation_moves_a_subskill_toward_the_evidence_on_the_others():
    def theta_a(rho):
        joint = JointPosterior(["a", "b"], correlation=rho)
        for _ in range(8):
            joint.update("b", Observation(1.2, 1.0, 1.0))
        return joint.marginal("a").estimate()

    assert theta_a(0.0).theta == pytest.approx(0.0, abs=1e-9)
    assert 0.0 < theta_a(0.3).theta < theta_a(0.6).theta
    assert theta_a(0.6).se < theta_a(0.0).se


def test_joint_posterior_rejects_an_out_of_range_correlation():
    with pytest.raises(ValueError, match="correlation"):
        JointPosterior(["a"], correlation=0.99)


def test_level_information_on_a_two_point_grid_matches_the_hand_computation():
    # Mass 1/2 at -0.5 (intermediate) and 1/2 at 0.5 (advanced); item a=1, b=0.
    posterior = Posterior.from_weights([-0.5, 0.5], [1.0, 1.0], n=0)
    p_low, p_high = p_correct(-0.5, 1.0, 0.0), p_correct(0.5, 1.0, 0.0)
    expected = math.log(2) - 0.5 * entropy(p_low) - 0.5 * entropy(p_high)
    assert level_information(posterior, 1.0, 0.0) == pytest.approx(expected)
    assert expected == pytest.approx(0.0302, abs=1e-4)


def test_level_information_is_zero_when_the_level_is_already_certain():
    posterior = Posterior.from_weights([0.25, 0.75], [1.0, 3.0], n=2)  # all mass in "advanced"
    assert level_information(posterior, 1.5, 0.5) == pytest.approx(0.0, abs=1e-12)


def test_level_selection_targets_the_boundary_the_posterior_straddles():
    grid = [-4 + 8 * i / 60 for i in range(61)]
    posterior = Posterior.from_weights(grid, [math.exp(-0.5 * ((t - 1.0) / 0.3) ** 2) for t in grid], n=6)
    items = [Candidate("mean-ish", 1.5, 0.7), Candidate("boundary", 1.5, 1.0), Candidate("far", 1.5, -1.0)]
    ranked = rank_by_level_information(posterior, items)
    assert [c.id for c in ranked] == ["boundary", "mean-ish", "far"]


def _bank():
    return {
        slug: [BankItem(f"{slug}{i}", slug, 1.0, -2 + i / 5) for i in range(20)]
        for slug in ("model-security", "data-security")
    }


def test_results_estimates_are_the_posterior_the_stopping_rule_used():
    settings = PlacementSettings(min_items=3, max_items=6, top_k=1, correlation=0.5)
    state = PlacementState(_bank(), settings)
    observations: dict[str, list[Observation]] = {"model-security": [], "data-security": []}
    rng = random.Random(2)
    while (item := state.next_item(rng)) is not None:
        score = float(item.b < 0.3)
        state.record(item, score)
        observations[item.subskill].append(Observation(item.a, item.b, score))
    shown = placement_estimates(observations, settings)
    for slug, est in state.estimates().items():
        assert shown[slug] == est


def test_settings_from_an_older_mapping_take_the_new_defaults():
    old = {
        "min_items_per_subskill": 3,
        "max_items_per_subskill": 12,
        "exposure_top_k": 4,
        "credible_mass": 0.9,
    }
    settings = PlacementSettings.from_mapping(old)
    assert (settings.min_items, settings.max_items, settings.top_k) == (3, 12, 4)
    assert (settings.stop_mass, settings.correlation, settings.selection) == (0.8, 0.5, "level")
    assert PlacementSettings.from_mapping(settings.as_mapping()) == settings


def test_settings_reject_an_unknown_selection_rule():
    with pytest.raises(ValueError, match="selection"):
        PlacementSettings(selection="random")
