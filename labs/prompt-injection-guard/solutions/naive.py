"""Naive guard: a blocklist of English attack phrases on the raw message.

Catches textbook overrides and personas; misses encodings, look-alike letters, other
languages and instructions hidden in retrieved documents (it never reads them).
"""

BLOCKLIST = (
    "ignore all previous instructions",
    "ignore previous instructions",
    "disregard your rules",
    "pretend you are",
    "act as dan",
    "you are now",
    "no rules",
    "in character",
    "roleplay",
    "imagine you are",
)


def guard_input(message: str, documents: list[str]) -> bool:
    lowered = message.lower()
    return not any(phrase in lowered for phrase in BLOCKLIST)
