"""Fixtures for the labs app: a Lab row without loading the whole curriculum."""

import pytest

from mlrange.catalog.models import Level, SubSkill
from mlrange.labs.models import Lab


@pytest.fixture
def lab(db) -> Lab:
    subskill = SubSkill.objects.create(slug="model-security", name="Model Security", order=1, description="d")
    level = Level.objects.create(slug="intermediate", name="Intermediate", order=2, summary="s")
    return Lab.objects.create(
        slug="adversarial-examples",
        title="Craft adversarial examples",
        summary="Fool a classifier.",
        subskill=subskill,
        level=level,
        atlas=["AML.T0043.000"],
        owasp=["ML01"],
        pass_points=100,
    )
