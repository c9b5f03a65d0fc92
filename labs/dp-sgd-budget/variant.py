"""Per-learner variant of the dp-sgd-budget lab: the privacy budget epsilon (delta is fixed).

Pure Python (no torch): the web and worker processes load it by file path. A configuration
tuned to one budget is over another learner's tighter budget or wastes a looser one.
"""

BUDGETS = (3.0, 3.5, 4.0)


def variant(seed: int) -> dict:
    """epsilon_budget in {3.0, 3.5, 4.0} at delta = 1e-5."""
    return {"epsilon_budget": BUDGETS[seed % len(BUDGETS)]}
