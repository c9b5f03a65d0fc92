"""The question-bank loader: errors name file, item and field; loading is idempotent."""

import shutil

import pytest

from mlrange.assessments.content import load_questions, validate_questions
from mlrange.assessments.models import Item, Quiz
from tests.assessments.conftest import FIXTURES


def _messages(root):
    return [str(error) for error in validate_questions(root)]


def test_valid_bank_reports_no_errors():
    assert validate_questions(FIXTURES / "good") == []


def test_answer_not_an_option_names_file_item_and_field():
    messages = _messages(FIXTURES / "bad")
    assert (
        "bad/questions/model-security.yaml: items[3] (ms-b-004).answer: 'e' is not one of the option ids a, b, c, d"
        in messages
    )


@pytest.mark.parametrize(
    "expected",
    [
        "bad/questions/model-security.yaml: items[1] (ms-b-002).options[1].id: 'a' is used twice",
        "bad/questions/model-security.yaml: items[2] (ms-b-003).answer: must list every option id exactly once",
        "bad/questions/model-security.yaml: items[3] (ms-b-004).irt.b: -5.0 must be a number in [-4, 4]",
        "bad/questions/model-security.yaml: items[3] (ms-b-004).irt.a: 0 must be a number in (0, 4]",
        "bad/questions/model-security.yaml: items[3] (ms-b-004).references[0].atlas: 'AML.T9999' is not an id in MITRE ATLAS",
        "bad/questions/model-security.yaml: items[3] (ms-b-004).references[1].owasp: 'ML11' is not an OWASP",
        "bad/questions/model-security.yaml: items[3] (ms-b-004).difficulty: unknown field",
        "bad/questions/model-security.yaml: items[4] (ms-b-005).answer.tolerance: 0 must be a number > 0",
        "bad/questions/model-security.yaml: items[0] (ms-b-001).id: id already used in bad/questions/data-security.yaml",
    ],
)
def test_each_broken_rule_is_reported(expected):
    assert any(message.startswith(expected) for message in _messages(FIXTURES / "bad")), expected


def test_load_is_idempotent_by_item_id(catalog):
    first = load_questions(FIXTURES / "good")
    assert (first.created, first.updated, first.deleted) == (9, 0, 0)
    second = load_questions(FIXTURES / "good")
    assert (second.created, second.updated, second.deleted) == (0, 0, 0)
    assert Item.objects.count() == 9


def test_load_stores_atlas_names_and_creates_the_standard_quizzes(catalog):
    load_questions(FIXTURES / "good")
    item = Item.objects.get(key="ms-b-001")
    assert {"atlas": "AML.T0015", "name": "Evade AI Model"} in item.references
    assert Quiz.objects.filter(slug="placement", kind=Quiz.Kind.PLACEMENT).exists()
    assert Quiz.objects.filter(slug="practice-model-security", subskill__slug="model-security").exists()


def test_removed_items_are_retired_not_deleted(catalog, tmp_path):
    root = tmp_path / "curriculum"
    shutil.copytree(FIXTURES / "good", root)
    load_questions(root)
    (root / "questions" / "data-security.yaml").unlink()
    report = load_questions(root)
    assert report.deleted == 3
    assert Item.objects.filter(key="ds-b-001", is_active=False).exists()


def test_changed_item_counts_as_updated(catalog, tmp_path):
    root = tmp_path / "curriculum"
    shutil.copytree(FIXTURES / "good", root)
    load_questions(root)
    path = root / "questions" / "data-security.yaml"
    path.write_text(path.read_text().replace("irt: {b: -1.8, a: 1.0}", "irt: {b: -1.6, a: 1.0}"))
    report = load_questions(root)
    assert (report.created, report.updated) == (0, 1)
    assert Item.objects.get(key="ds-b-001").irt_b == -1.6


def test_load_sets_each_items_guessing_floor_from_its_format(catalog):
    load_questions(FIXTURES / "good")
    floors = dict(Item.objects.values_list("key", "irt_c"))
    assert floors["ms-b-001"] == 0.3333  # single choice, three options
    assert floors["ds-b-001"] == floors["ms-a-001"] == 0.5  # true/false
    assert (
        floors["ms-a-002"] == floors["ms-e-001"] == floors["ms-i-001"] == 0.0
    )  # numeric, ordering, multiple
