"""Per-learner variant of the backdoor-attack lab: target class and allowed trigger region.

Pure Python (no torch): the web and worker processes load it by file path.
"""

import random

# Top-left corners of the 3x3 windows a trigger may use (rows, columns of the 8x8 image).
REGIONS = [(0, 0), (0, 5), (5, 0), (5, 5), (0, 2), (0, 3), (5, 2), (5, 3), (2, 0), (3, 0), (2, 5), (3, 5)]


def variant(seed: int) -> dict:
    """target_class in 0..9; trigger_region [row, col, height, width], a 3x3 window."""
    rng = random.Random(f"backdoor-attack:{seed}")  # noqa: S311 -- a public variant, not a secret
    row, col = rng.choice(REGIONS)
    return {"target_class": rng.randrange(10), "trigger_region": [row, col, 3, 3]}
