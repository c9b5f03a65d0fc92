"""Checking and scoring a learner's response to one item, by item type. Pure Python.

Response shapes (JSON):
  single      "b"                      an option id
  multiple    ["a", "c"]               option ids, no repeats (empty list allowed: scores 0)
  true_false  true | false
  numeric     0.1                      a finite number
  ordering    ["c", "a", "d", "b"]     every option id exactly once

Scores are in [0, 1]:
  single, true_false   1 if equal to the key, else 0
  multiple             all_or_nothing: 1 if the chosen set equals the key set, else 0
                       partial: (correct chosen - wrong chosen) / number of correct, floored at 0
  numeric              1 if |response - value| <= tolerance, else 0
  ordering             Kendall's tau between the response and the key, floored at 0:
                       (concordant pairs - discordant pairs) / all pairs. Exactly right: 1;
                       random order: 0 on average (so guessing earns nothing, as with
                       partial multiple-choice); one adjacent swap of n steps: 1 - 4/(n(n-1)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any


class ResponseError(ValueError):
    """A response that does not fit the item's type: the message says what to send."""


def normalize_response(item_type: str, option_ids: Sequence[str], response: Any) -> Any:  # noqa: PLR0912 -- one branch per item type
    """Return the response in canonical JSON form or raise ResponseError."""
    ids = list(option_ids)
    listing = ", ".join(ids)
    if item_type == "single":
        if not isinstance(response, str) or response not in ids:
            raise ResponseError(f"Send one option id as a string, one of: {listing}.")
        return response
    if item_type == "multiple":
        if not isinstance(response, list) or not all(isinstance(r, str) for r in response):
            raise ResponseError(f"Send a list of option ids chosen from: {listing}.")
        unknown = [r for r in response if r not in ids]
        if unknown:
            raise ResponseError(f"Unknown option id(s) {', '.join(unknown)}; use: {listing}.")
        if len(set(response)) != len(response):
            raise ResponseError("Each option id may appear only once.")
        return sorted(response)
    if item_type == "true_false":
        if not isinstance(response, bool):
            raise ResponseError("Send true or false (a JSON boolean).")
        return response
    if item_type == "numeric":
        if isinstance(response, bool) or not isinstance(response, int | float):
            raise ResponseError("Send a number, e.g. 0.25.")
        if not math.isfinite(response):
            raise ResponseError("Send a finite number.")
        return float(response)
    if item_type == "ordering":
        if (
            not isinstance(response, list)
            or not all(isinstance(r, str) for r in response)
            or sorted(response) != sorted(ids)
        ):
            raise ResponseError(f"Send every option id exactly once, in your order: {listing}.")
        return list(response)
    raise ResponseError(f"Unknown item type {item_type!r}.")


def kendall_fraction(response: Sequence[str], key: Sequence[str]) -> float:
    """Kendall's tau of two orderings of the same ids, floored at 0."""
    position = {step: i for i, step in enumerate(response)}
    pairs = list(combinations(key, 2))
    if not pairs:
        return 1.0
    concordant = sum(1 for first, second in pairs if position[first] < position[second])
    discordant = len(pairs) - concordant
    return max(0.0, (concordant - discordant) / len(pairs))


def score_response(item_type: str, answer: Any, response: Any, *, scoring: str = "") -> float:
    """Score a normalized response against the answer key; see the module docstring."""
    if item_type in ("single", "true_false"):
        return 1.0 if response == answer else 0.0
    if item_type == "multiple":
        key, chosen = set(answer), set(response)
        if scoring == "partial":
            right = len(chosen & key)
            wrong = len(chosen - key)
            return max(0.0, (right - wrong) / len(key)) if key else 0.0
        return 1.0 if chosen == key else 0.0
    if item_type == "numeric":
        value, tolerance = float(answer["value"]), float(answer["tolerance"])
        return 1.0 if abs(float(response) - value) <= tolerance + 1e-12 else 0.0
    if item_type == "ordering":
        return 1.0 if list(response) == list(answer) else kendall_fraction(response, answer)
    raise ValueError(f"unknown item type {item_type!r}")
