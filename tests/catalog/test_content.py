"""Validation of the curriculum files: every error, with its file and field path."""

from mlrange.catalog.content import ContentError, validate_catalog
from tests.catalog.conftest import replace_in


def messages(root) -> list[str]:
    return [str(error) for error in validate_catalog(root)]


def test_real_curriculum_validates_with_zero_errors(curriculum_root):
    assert validate_catalog(curriculum_root) == []


def test_wrong_type_is_reported_with_file_and_field_path(curriculum_copy):
    replace_in(
        curriculum_copy / "levels.yaml",
        "    can_do:\n      - Architects end-to-end",
        "    can_do: Architects everything\n    x_removed:\n      - Architects end-to-end",
    )
    errors = messages(curriculum_copy)
    assert "curriculum/levels.yaml: levels[2].can_do: expected a list of strings" in errors


def test_unknown_key_is_an_error(curriculum_copy):
    replace_in(
        curriculum_copy / "levels.yaml", "    name: Beginner\n", "    name: Beginner\n    colour: green\n"
    )
    assert messages(curriculum_copy) == [
        "curriculum/levels.yaml: levels[0].colour: unknown key "
        "(allowed: slug, name, order, summary, can_do, next_step)"
    ]


def test_missing_required_field_is_an_error(curriculum_copy):
    replace_in(
        curriculum_copy / "red_flags.yaml",
        "    subskill: model-security\n",
        "",
    )
    assert messages(curriculum_copy) == [
        "curriculum/red_flags.yaml: red_flags[1].subskill: missing required field"
    ]


def test_unknown_atlas_id_is_an_error(curriculum_copy):
    replace_in(curriculum_copy / "use_cases.yaml", "AML.T0043.001", "AML.T0043.099")
    assert messages(curriculum_copy) == [
        "curriculum/use_cases.yaml: use_cases[0].atlas_ids[1]: unknown MITRE ATLAS id "
        "'AML.T0043.099' (not in ATLAS 5.6.0)"
    ]


def test_unknown_owasp_id_is_an_error(curriculum_copy):
    replace_in(curriculum_copy / "projects.yaml", "owasp_ids: [ML01]", "owasp_ids: [ML11]")
    errors = messages(curriculum_copy)
    assert len(errors) == 1
    assert errors[0].startswith(
        "curriculum/projects.yaml: projects[0].owasp_ids[0]: unknown OWASP ML Top 10 (2023) id 'ML11'"
    )


def test_duplicate_slug_is_an_error(curriculum_copy):
    replace_in(curriculum_copy / "faq.yaml", "slug: need-ml-background", "slug: ai-security-vs-cybersecurity")
    assert messages(curriculum_copy) == [
        "curriculum/faq.yaml: faq[1].slug: duplicate slug 'ai-security-vs-cybersecurity' "
        "(first used at faq[0].slug)"
    ]


def test_duplicate_slug_across_free_and_paid_resources_is_an_error(curriculum_copy):
    replace_in(curriculum_copy / "resources.yaml", "slug: caisp", "slug: mitre-atlas")
    assert messages(curriculum_copy) == [
        "curriculum/resources.yaml: paid[4].slug: duplicate slug 'mitre-atlas' (first used at free[1].slug)"
    ]


def test_bad_yaml_syntax_is_reported_with_its_line(curriculum_copy):
    path = curriculum_copy / "misconceptions.yaml"
    lines = path.read_text().splitlines()
    lines[4] = lines[4] + " : broken"
    path.write_text("\n".join(lines) + "\n")
    errors = messages(curriculum_copy)
    assert len(errors) == 1
    assert errors[0].startswith("curriculum/misconceptions.yaml: invalid YAML at line 5, column ")


def test_duplicate_yaml_key_is_reported_with_its_line(curriculum_copy):
    replace_in(
        curriculum_copy / "overview.yaml", "title: AI/ML Security\n", "title: AI/ML Security\ntitle: Again\n"
    )
    errors = messages(curriculum_copy)
    assert errors == [
        "curriculum/overview.yaml: invalid YAML at line 5, column 1: found duplicate key 'title'"
    ]


def test_every_error_in_every_file_is_reported(curriculum_copy):
    replace_in(curriculum_copy / "levels.yaml", "    order: 4\n", "    order: four\n")
    replace_in(curriculum_copy / "subskills.yaml", "    weight: 15\n", "    weight: 10\n")
    replace_in(curriculum_copy / "faq.yaml", "  - slug: legal-practice\n", "  - slug: Legal Practice\n")
    (curriculum_copy / "path.yaml").unlink()
    assert messages(curriculum_copy) == [
        "curriculum/levels.yaml: levels[3].order: expected an integer",
        "curriculum/subskills.yaml: subskills: weights sum to 95, expected 100",
        "curriculum/path.yaml: file is missing",
        "curriculum/faq.yaml: faq[6].slug: 'Legal Practice' is not a slug "
        "(lower-case letters, digits and hyphens)",
    ]


def test_quiz_question_needs_exactly_one_correct_choice(curriculum_copy):
    replace_in(curriculum_copy / "self_assessment.yaml", "is_correct: false", "is_correct: true")
    assert messages(curriculum_copy) == [
        "curriculum/self_assessment.yaml: quiz[0].choices: expected exactly one correct choice, found 2"
    ]


def test_level_slugs_and_order_are_fixed(curriculum_copy):
    replace_in(curriculum_copy / "levels.yaml", "slug: expert", "slug: guru")
    errors = messages(curriculum_copy)
    assert errors[0].startswith("curriculum/levels.yaml: levels[3].slug: unknown level 'guru'")
    assert "curriculum/levels.yaml: levels: missing 'expert'" in errors


def test_unknown_yaml_file_in_the_folder_is_an_error(curriculum_copy):
    (curriculum_copy / "level.yaml").write_text("levels: []\n")
    assert messages(curriculum_copy)[0].startswith("curriculum/level.yaml: unknown content file")


def test_content_error_prints_as_file_field_message():
    assert str(ContentError("curriculum/x.yaml", "a[0].b", "bad")) == "curriculum/x.yaml: a[0].b: bad"
    assert str(ContentError("curriculum/x.yaml", "", "bad")) == "curriculum/x.yaml: bad"
