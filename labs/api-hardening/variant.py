"""Per-learner variant of the api-hardening lab: API keys, rate limit and batch limit.

Pure Python (no torch): the web and worker processes load it by file path. The grader drives
the learner's app with these keys and checks these limits, so an app copied from another
learner (other keys, other limits) fails. Derived with SHA-256 from the learner's seed.
"""

import hashlib


def _digest(seed: int, label: str) -> str:
    return hashlib.sha256(f"api-hardening:{int(seed)}:{label}".encode()).hexdigest()


def variant(seed: int) -> dict:
    """Sixteen API keys, requests allowed per key per 60 s (20..30), rows per request (8..16)."""
    keys = ["mlr_" + _digest(seed, f"key-{i}")[:24] for i in range(16)]
    limits = int(_digest(seed, "limits")[:8], 16)
    return {
        "api_keys": keys,
        "rate_limit": (20, 24, 30)[limits % 3],
        "max_batch": (8, 12, 16)[(limits // 3) % 3],
    }
