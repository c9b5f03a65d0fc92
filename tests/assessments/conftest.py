"""Fixtures of the assessments tests: catalog rows, a small loaded bank, quizzes."""

from pathlib import Path

import pytest

from mlrange.assessments.content import load_questions
from mlrange.assessments.models import Item, Quiz
from mlrange.assessments.services import quiz_catalog_sync
from mlrange.catalog.models import Level, SubSkill

FIXTURES = Path(__file__).parent / "fixtures"
LEVELS = ["beginner", "intermediate", "advanced", "expert"]
SUBSKILLS = [
    "model-security",
    "data-security",
    "infrastructure-security",
    "privacy-preserving-ml",
    "threat-modeling",
]


@pytest.fixture
def catalog(db):
    for order, slug in enumerate(LEVELS, start=1):
        Level.objects.get_or_create(slug=slug, defaults={"name": slug.title(), "order": order, "summary": ""})
    for order, slug in enumerate(SUBSKILLS, start=1):
        SubSkill.objects.get_or_create(
            slug=slug,
            defaults={"name": slug.replace("-", " ").title(), "order": order, "description": ""},
        )


@pytest.fixture
def bank(catalog):
    """The fixture bank (tests/assessments/fixtures/good) loaded, and the standard quizzes."""
    load_questions(FIXTURES / "good")
    quiz_catalog_sync()


@pytest.fixture
def practice_quiz(bank) -> Quiz:
    """Practice on model-security, with all six of its fixture items in the practice pool
    (the files' split would leave it one: the bank is too small to split)."""
    Item.objects.filter(subskill__slug="model-security").update(pool=Item.Pool.PRACTICE)
    return Quiz.objects.get(slug="practice-model-security")


@pytest.fixture
def placement_quiz(bank) -> Quiz:
    return Quiz.objects.get(slug="placement")
