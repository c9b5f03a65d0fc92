"""Per-learner variant of the adversarial-examples lab: which target class to aim for.

Pure Python (no torch): the web and worker processes load it by file path.
"""


def variant(seed: int) -> dict:
    """Target class of the targeted attack is (y + target_offset) mod 10, offset in 1..9."""
    return {"target_offset": 1 + seed % 9}
