"""Per-learner variant of the adversarial-training lab: the order of the output classes.

Pure Python (no torch): the web and worker processes load it by file path. Output k of the
learner's model must mean digit class_order[k], so a state_dict copied from another learner
(whose class order differs) classifies almost nothing correctly.
"""

import random


def variant(seed: int) -> dict:
    """A permutation of the ten digits, derived from the learner's seed; never the identity."""
    rng = random.Random(f"adversarial-training:{seed}")  # noqa: S311 -- a public variant, not a secret
    order = list(range(10))
    while order == list(range(10)):
        rng.shuffle(order)
    return {"class_order": order}
