"""Shared fixtures: API clients, users, and helpers for tests that start real processes."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    """Throttle counts live in the cache, which outlives a test: each test starts from none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def learner(db):
    return UserFactory.create(username="ada")


@pytest.fixture
def other_learner(db):
    return UserFactory.create(username="mallory")


@pytest.fixture
def instructor(db):
    return UserFactory.create(username="grace", role="instructor")


@pytest.fixture
def learner_client(learner) -> APIClient:
    client = APIClient()
    client.force_authenticate(learner)
    return client
