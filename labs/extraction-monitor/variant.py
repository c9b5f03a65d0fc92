"""Per-learner variant of the extraction-monitor lab: the deployment's benign traffic profile.

Pure Python (no numpy): the web and worker processes load it by file path. Each profile is a
different customer base (scanner noise, ink gain, the classes they send most, batch sizes),
so thresholds calibrated on one learner's traffic do not carry over to another's. The
numbers are the same as traffic.PROFILES (a test checks it).
"""

PROFILES = {
    "clinic": {"noise": 0.0, "gain": 1.0, "hot_classes": [0, 1, 7], "hot_share": 0.5, "max_batch": 4},
    "bank": {"noise": 0.03, "gain": 0.9, "hot_classes": [2, 5, 9], "hot_share": 0.6, "max_batch": 8},
    "post": {"noise": 0.06, "gain": 0.85, "hot_classes": [3, 4, 6], "hot_share": 0.7, "max_batch": 6},
    "school": {"noise": 0.09, "gain": 0.8, "hot_classes": [1, 8, 9], "hot_share": 0.5, "max_batch": 3},
}
ORDER = ("clinic", "bank", "post", "school")


def variant(seed: int) -> dict:
    """The learner's deployment profile; the grader replays customers of this profile."""
    name = ORDER[seed % len(ORDER)]
    return {"profile": {"name": name, **PROFILES[name]}}
