"""Per-learner variant of the threat-model lab: which system the learner threat-models.

Pure Python (no torch): the web and worker processes load it by file path.
"""

SYSTEMS = ("fraud-detection", "healthcare-chatbot", "face-access-control", "malware-detection")


def variant(seed: int) -> dict:
    """system: one of SYSTEMS, from the learner's seed."""
    return {"system": SYSTEMS[int(seed) % len(SYSTEMS)]}
