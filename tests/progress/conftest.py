"""Fixtures of the progress tests: the catalog every test reads against."""

import pytest

from tests.progress.factories import make_catalog


@pytest.fixture
def catalog(db):
    return make_catalog()
