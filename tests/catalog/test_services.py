"""Loading the curriculum: counts, idempotence, stable ids, nothing written on errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mlrange.catalog import models
from mlrange.catalog.content import LoadReport, register_content_loader
from mlrange.catalog.services import CurriculumInvalidError, catalog_content_load, curriculum_load
from tests.catalog.conftest import replace_in

ALL_MODELS = (
    models.Level, models.SubSkill, models.Guide, models.PathStage, models.Misconception,
    models.UseCase, models.PortfolioProject, models.SelfCheckQuestion, models.QuickQuizQuestion,
    models.RedFlag, models.Resource, models.Role, models.Industry, models.AtsKeyword,
    models.ResumePhrase, models.FaqEntry,
)  # fmt: skip


def snapshot() -> dict[str, list[tuple[int, str]]]:
    return {model.__name__: sorted(model.objects.values_list("id", "slug")) for model in ALL_MODELS}


@pytest.mark.django_db
def test_load_creates_every_section_of_the_guide(curriculum_root):
    report = catalog_content_load(root=curriculum_root)
    assert models.Level.objects.count() == 4
    assert list(models.Level.objects.values_list("slug", "order")) == [
        ("beginner", 1), ("intermediate", 2), ("advanced", 3), ("expert", 4),
    ]  # fmt: skip
    assert list(models.SubSkill.objects.values_list("slug", flat=True)) == [
        "model-security", "data-security", "infrastructure-security", "privacy-preserving-ml",
        "threat-modeling",
    ]  # fmt: skip
    assert models.PathStage.objects.count() == 3
    assert models.SelfCheckQuestion.objects.count() == 8
    assert models.QuickQuizQuestion.objects.count() == 3
    assert models.Misconception.objects.count() == 4
    assert models.UseCase.objects.count() == 3
    assert models.PortfolioProject.objects.count() == 3
    assert models.RedFlag.objects.count() == 5
    assert models.Guide.objects.count() == 1
    assert report.created == sum(m.objects.count() for m in ALL_MODELS)
    assert (report.updated, report.deleted) == (0, 0)


@pytest.mark.django_db
def test_second_load_changes_nothing_and_keeps_ids(curriculum_root):
    catalog_content_load(root=curriculum_root)
    before = snapshot()
    report = catalog_content_load(root=curriculum_root)
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert report.unchanged == sum(len(rows) for rows in before.values())
    assert snapshot() == before


@pytest.mark.django_db
def test_load_updates_changed_items_in_place(curriculum_copy):
    catalog_content_load(root=curriculum_copy)
    level_id = models.Level.objects.get(slug="expert").id
    replace_in(curriculum_copy / "levels.yaml", "Publishes research", "Publishes peer-reviewed research")
    replace_in(
        curriculum_copy / "misconceptions.yaml",
        "subskills: [model-security, threat-modeling]",
        "subskills: [threat-modeling]",
    )
    report = catalog_content_load(root=curriculum_copy)
    assert (report.created, report.updated, report.deleted) == (0, 2, 0)
    expert = models.Level.objects.get(slug="expert")
    assert expert.id == level_id
    assert expert.can_do[0].startswith("Publishes peer-reviewed research")
    misconception = models.Misconception.objects.get(slug="traditional-security-is-enough")
    assert [s.slug for s in misconception.subskills.all()] == ["threat-modeling"]


@pytest.mark.django_db
def test_load_removes_items_no_longer_in_the_files(curriculum_copy):
    catalog_content_load(root=curriculum_copy)
    text = (curriculum_copy / "faq.yaml").read_text()
    (curriculum_copy / "faq.yaml").write_text(text.split("  - slug: legal-practice")[0])
    report = catalog_content_load(root=curriculum_copy)
    assert (report.created, report.updated, report.deleted) == (0, 0, 1)
    assert not models.FaqEntry.objects.filter(slug="legal-practice").exists()


@pytest.mark.django_db
def test_invalid_curriculum_writes_nothing_on_an_empty_database(curriculum_copy):
    replace_in(curriculum_copy / "red_flags.yaml", "subskill: data-security", "subskill: data-science")
    with pytest.raises(CurriculumInvalidError) as raised:
        catalog_content_load(root=curriculum_copy)
    assert [str(e) for e in raised.value.errors] == [
        "curriculum/red_flags.yaml: red_flags[2].subskill: unknown sub-skill 'data-science' "
        "(expected one of: model-security, data-security, infrastructure-security, "
        "privacy-preserving-ml, threat-modeling)"
    ]
    assert all(model.objects.count() == 0 for model in ALL_MODELS)


@pytest.mark.django_db
def test_invalid_curriculum_leaves_loaded_data_untouched(curriculum_copy):
    catalog_content_load(root=curriculum_copy)
    before = snapshot()
    replace_in(curriculum_copy / "levels.yaml", "Can define adversarial", "Defines adversarial")
    replace_in(curriculum_copy / "faq.yaml", "question: Do I need", "questoin: Do I need")
    with pytest.raises(CurriculumInvalidError):
        catalog_content_load(root=curriculum_copy)
    assert snapshot() == before
    assert models.Level.objects.get(slug="beginner").can_do[0].startswith("Can define")


@pytest.mark.django_db
def test_command_reports_zero_changes_on_second_run(curriculum_root):
    call_command("load_curriculum", stdout=StringIO())
    out = StringIO()
    call_command("load_curriculum", stdout=out)
    assert "catalog: 0 created, 0 updated, 0 deleted" in out.getvalue()
    assert "0 created, 0 updated, 0 deleted." in out.getvalue()


@pytest.mark.django_db
def test_command_lists_every_error_and_fails(curriculum_copy):
    replace_in(curriculum_copy / "levels.yaml", "    order: 4\n", "    order: four\n")
    replace_in(curriculum_copy / "faq.yaml", "question: Do I need", "questoin: Do I need")
    err = StringIO()
    with pytest.raises(CommandError, match="3 error"):
        call_command("load_curriculum", "--path", str(curriculum_copy), stderr=err)
    assert err.getvalue().splitlines() == [
        "curriculum/levels.yaml: levels[3].order: expected an integer",
        "curriculum/faq.yaml: faq[1].questoin: unknown key (allowed: slug, question, answer)",
        "curriculum/faq.yaml: faq[1].question: missing required field",
    ]
    assert models.Level.objects.count() == 0


@pytest.mark.django_db
def test_registered_loader_runs_after_the_catalog_in_the_same_transaction(curriculum_root):
    calls = []

    def load(root):
        calls.append((root, models.SubSkill.objects.count()))
        return LoadReport(created=2)

    register_content_loader("questions", validate=lambda root: [], load=load)
    result = curriculum_load(root=curriculum_root)
    assert calls == [(curriculum_root, 5)]
    assert list(result.reports) == ["catalog", "questions"]
    assert result.reports["questions"].created == 2


@pytest.mark.django_db
def test_registered_validator_errors_block_the_whole_load(curriculum_root):
    from mlrange.catalog.content import ContentError

    def load(root):
        raise AssertionError("load must not run when validation failed")

    register_content_loader(
        "questions",
        validate=lambda root: [ContentError("curriculum/questions/a.yaml", "items[0]", "bad")],
        load=load,
    )
    with pytest.raises(CurriculumInvalidError) as raised:
        curriculum_load(root=curriculum_root)
    assert [str(e) for e in raised.value.errors] == ["curriculum/questions/a.yaml: items[0]: bad"]
    assert models.Level.objects.count() == 0


def test_registering_another_loader_under_a_taken_name_is_refused():
    register_content_loader("questions", validate=lambda root: [], load=lambda root: LoadReport())
    with pytest.raises(ValueError, match="already registered"):
        register_content_loader("questions", validate=lambda root: [], load=lambda root: LoadReport())


def test_registered_loader_failure_rolls_back_the_catalog(db, curriculum_root):
    def load(root):
        raise RuntimeError("boom")

    register_content_loader("questions", validate=lambda root: [], load=load)
    with pytest.raises(RuntimeError):
        curriculum_load(root=curriculum_root)
    assert models.Level.objects.count() == 0
