"""Migrations that change data: items loaded before a migration get what it adds."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("assessments", "0001_initial")]
AFTER = [("assessments", "0002_item_irt_c")]


@pytest.mark.django_db(transaction=True)
def test_adding_guessing_floors_fills_them_in_for_items_already_loaded():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    level = old.get_model("catalog", "Level").objects.create(slug="beginner", name="B", order=1, summary="")
    subskill = old.get_model("catalog", "SubSkill").objects.create(
        slug="model-security", name="M", order=1, description=""
    )
    Item = old.get_model("assessments", "Item")
    common = {"subskill": subskill, "level": level, "stem": "?", "explanation": "."}
    params = {"irt_a": 1.0, "irt_b": 0.0, "initial_irt_a": 1.0, "initial_irt_b": 0.0}
    options = [{"id": k, "text": k, "why": k} for k in "abcd"]
    Item.objects.create(key="ms-b-001", type="single", options=options, answer="a", **common, **params)
    Item.objects.create(key="ms-b-002", type="true_false", answer=True, **common, **params)
    Item.objects.create(
        key="ms-b-003", type="numeric", answer={"value": 1, "tolerance": 0.1}, **common, **params
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    floors = dict(new.get_model("assessments", "Item").objects.values_list("key", "irt_c"))
    assert floors == {"ms-b-001": 0.25, "ms-b-002": 0.5, "ms-b-003": 0.0}


@pytest.fixture(autouse=True)
def _schema_back_to_the_latest():
    """Leave the test database at the latest migrations, whatever a test migrated it back to:
    every later test runs on the schema the code expects."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
