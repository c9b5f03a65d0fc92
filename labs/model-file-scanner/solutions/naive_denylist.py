"""Naive solution: grep the raw bytes for dangerous names (a deny-list).

Catches the textbook payloads, misses imports it has never heard of, and raises false alarms
on honest checkpoints whose layer names merely contain a scary word. Expected: the
known-families tier only.
"""

DANGEROUS = (b"system", b"popen", b"subprocess", b"eval", b"exec", b"__import__")


def scan(data: bytes, filename: str) -> bool:
    """True when any dangerous word appears anywhere in the file."""
    return any(word in data for word in DANGEROUS)
