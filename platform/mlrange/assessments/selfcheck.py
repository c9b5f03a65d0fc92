"""The guide's self-check questions and how confidence ratings become a self-assessed level.

The questions come from the catalog (`catalog.SelfCheckQuestion`: slug, text, sub-skills);
when the catalog has none loaded, the eight questions of the guide below are used, each
mapped to the sub-skills it speaks to.

Self-assessed level of a sub-skill: the mean confidence (1-5) over the questions that
map to it; mean < 2 beginner, < 3 intermediate, < 4 advanced, otherwise expert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.apps import apps

LEVEL_BY_RATING: tuple[tuple[float, str], ...] = (
    (2.0, "beginner"),
    (3.0, "intermediate"),
    (4.0, "advanced"),
)
CONFIDENCE_LABELS: dict[int, str] = {
    1: "Not at all",
    2: "A little",
    3: "Somewhat",
    4: "Confidently",
    5: "Could teach it",
}


@dataclass(frozen=True)
class SelfCheckQuestion:
    key: str
    text: str
    subskills: tuple[str, ...]


GUIDE_SELF_CHECK: tuple[SelfCheckQuestion, ...] = (
    SelfCheckQuestion(
        "self-check-1",
        "Can you explain the difference between data poisoning and model inversion attacks?",
        ("data-security", "privacy-preserving-ml"),
    ),
    SelfCheckQuestion(
        "self-check-2",
        "Have you implemented differential privacy in a machine learning project?",
        ("privacy-preserving-ml",),
    ),
    SelfCheckQuestion(
        "self-check-3",
        "Do you know how to use MITRE ATLAS to map threats to an AI system?",
        ("threat-modeling",),
    ),
    SelfCheckQuestion(
        "self-check-4",
        "Can you set up a secure API for an ML model with rate limiting and authentication?",
        ("infrastructure-security",),
    ),
    SelfCheckQuestion(
        "self-check-5",
        "Have you conducted adversarial testing on a model using tools like CleverHans?",
        ("model-security",),
    ),
    SelfCheckQuestion(
        "self-check-6",
        "Are you familiar with federated learning and its security implications?",
        ("privacy-preserving-ml", "data-security"),
    ),
    SelfCheckQuestion(
        "self-check-7",
        "Can you design a threat model for an AI-powered recommendation system?",
        ("threat-modeling",),
    ),
    SelfCheckQuestion(
        "self-check-8",
        "Do you understand how homomorphic encryption applies to secure inference?",
        ("privacy-preserving-ml", "infrastructure-security"),
    ),
)


def self_check_questions() -> list[SelfCheckQuestion]:
    """The self-check questions from the catalog; the guide's eight if it has none loaded."""
    try:
        model = apps.get_model("catalog", "SelfCheckQuestion")
    except LookupError:
        return list(GUIDE_SELF_CHECK)
    rows = list(model.objects.prefetch_related("subskills").order_by("order"))
    if not rows:
        return list(GUIDE_SELF_CHECK)
    return [
        SelfCheckQuestion(
            key=str(row.slug),
            text=str(row.text),
            subskills=tuple(s.slug for s in row.subskills.all()),
        )
        for row in rows
    ]


def level_for_rating(mean_confidence: float) -> str:
    for upper, level in LEVEL_BY_RATING:
        if mean_confidence < upper:
            return level
    return "expert"


def self_assessed_levels(
    ratings: Iterable[tuple[Sequence[str], int]],
) -> dict[str, dict[str, float | str | int]]:
    """Per sub-skill: mean confidence, number of ratings, self-assessed level."""
    sums: dict[str, list[int]] = {}
    for subskills, confidence in ratings:
        for slug in subskills:
            sums.setdefault(slug, []).append(confidence)
    return {
        slug: {
            "mean_confidence": round(sum(values) / len(values), 2),
            "n_ratings": len(values),
            "level": level_for_rating(sum(values) / len(values)),
        }
        for slug, values in sums.items()
    }
