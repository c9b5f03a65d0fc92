"""Per-learner variant of the sign-verify-load lab: the release id to sign into the metadata.

Pure Python (no torch): the web and worker processes load it by file path.
"""

import hashlib


def variant(seed: int) -> dict:
    """release_id: 'rel-' and 12 hex digits derived from the learner's seed."""
    digest = hashlib.sha256(f"sign-verify-load:{int(seed)}".encode()).hexdigest()
    return {"release_id": f"rel-{digest[:12]}"}
