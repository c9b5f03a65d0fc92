"""Scoring and response validation for every item type."""

import pytest

from mlrange.assessments.scoring import (
    ResponseError,
    kendall_fraction,
    normalize_response,
    score_response,
)

IDS = ["a", "b", "c", "d"]


@pytest.mark.parametrize(("response", "expected"), [("a", 1.0), ("b", 0.0)])
def test_single_scores_the_key_only(response, expected):
    assert score_response("single", "a", response) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [(["a", "c"], 1.0), (["a"], 0.0), (["a", "b", "c"], 0.0), ([], 0.0)],
)
def test_multiple_all_or_nothing(response, expected):
    assert score_response("multiple", ["a", "c"], response, scoring="all_or_nothing") == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [(["a", "c"], 1.0), (["a"], 0.5), (["a", "b"], 0.0), (["a", "b", "c"], 0.5), (["b", "d"], 0.0)],
)
def test_multiple_partial_is_correct_minus_wrong_over_correct_floored_at_zero(response, expected):
    assert score_response("multiple", ["a", "c"], response, scoring="partial") == expected


@pytest.mark.parametrize(("response", "expected"), [(True, 1.0), (False, 0.0)])
def test_true_false(response, expected):
    assert score_response("true_false", True, response) == expected


@pytest.mark.parametrize(
    ("response", "expected"), [(0.1, 1.0), (0.104, 1.0), (0.105, 1.0), (0.106, 0.0), (0.09, 0.0)]
)
def test_numeric_within_tolerance(response, expected):
    assert score_response("numeric", {"value": 0.1, "tolerance": 0.005}, response) == expected


def test_ordering_exact_scores_one_and_partial_is_kendall_tau_floored():
    key = ["c", "a", "d", "b"]
    assert score_response("ordering", key, key) == 1.0
    # one adjacent swap: 5 concordant, 1 discordant of 6 pairs -> (5 - 1) / 6
    assert score_response("ordering", key, ["a", "c", "d", "b"]) == pytest.approx(4 / 6)
    assert score_response("ordering", key, list(reversed(key))) == 0.0
    assert kendall_fraction(["b", "a"], ["a", "b"]) == 0.0


@pytest.mark.parametrize(
    ("item_type", "response", "fragment"),
    [
        ("single", "z", "one option id"),
        ("single", ["a"], "one option id"),
        ("multiple", "a", "list of option ids"),
        ("multiple", ["a", "a"], "only once"),
        ("multiple", ["q"], "Unknown option"),
        ("true_false", "true", "true or false"),
        ("numeric", "0.1", "number"),
        ("numeric", True, "number"),
        ("ordering", ["a", "b"], "every option id exactly once"),
        ("ordering", ["a", "b", "c", "c"], "every option id exactly once"),
    ],
)
def test_malformed_responses_are_rejected_with_what_to_send(item_type, response, fragment):
    with pytest.raises(ResponseError, match=fragment):
        normalize_response(item_type, IDS, response)


def test_normalize_sorts_multiple_and_floats_numeric():
    assert normalize_response("multiple", IDS, ["c", "a"]) == ["a", "c"]
    assert normalize_response("numeric", IDS, 1) == 1.0
