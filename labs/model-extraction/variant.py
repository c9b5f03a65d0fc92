"""Per-learner variant of the model-extraction lab: query budget and which attack rows.

Pure Python (no torch): the web and worker processes load it by file path.
"""

import random

N_ATTACK_POOL = 300
N_ATTACK = 150


def variant(seed: int) -> dict:
    """The oracle's budget, and the 150 rows of x_attack.npy this learner must perturb."""
    chooser = random.Random(f"model-extraction:{seed}")  # noqa: S311 -- a public variant, not a secret
    rows = sorted(chooser.sample(range(N_ATTACK_POOL), N_ATTACK))
    return {"query_budget": 100, "attack_rows": rows}
