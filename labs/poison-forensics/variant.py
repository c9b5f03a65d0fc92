"""Per-learner variant of the poison-forensics lab: which poisoned set, in which order.

Pure Python (no torch): the web and worker processes load it by file path. The variant says
which of the prebuilt poisoned training sets the learner audits and the seed of the
permutation that orders it; it holds no hint of which images are poisoned. The grader maps
the learner's indices back through the same permutation.
"""

import random

N_SETS = 24


def variant(seed: int) -> dict:
    rng = random.Random(f"poison-forensics:{seed}")  # noqa: S311 -- a public variant, not a secret
    return {"dataset": rng.randrange(N_SETS), "shuffle_seed": rng.randrange(1, 2**31)}
