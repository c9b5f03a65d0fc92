"""Per-learner variant of the membership-inference lab: which target (and so which members).

Pure Python (no torch): the web and worker processes load it by file path. Each target was
trained on its own random half of its own disjoint candidate block, so scores made for one
target say nothing about another's members.
"""

N_TARGETS = 16


def variant(seed: int) -> dict:
    """Index of the learner's target model, 0..15."""
    return {"target_model": seed % N_TARGETS}
