"""Lab manifest validation: every error reported with its file and field; the real labs pass."""

import copy
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

from mlrange.labs.registry import (
    LabValidationError,
    discover_labs,
    get_lab,
    lab_variant,
    setup_cell_source,
    validate_labs,
)

VALID_MANIFEST = {
    "slug": "toy-lab",
    "title": "Toy lab",
    "subskill": "model-security",
    "level": "beginner",
    "summary": "A lab for tests.",
    "atlas": ["AML.T0015"],
    "owasp": ["ML01"],
    "time_budget_minutes": 30,
    "limits": {"wall_timeout_s": 30, "memory_mb": 1024, "grader_timeout_s": 20},
    "artifacts": [{"name": "out.npy", "max_bytes": 1000, "description": "an array"}],
    "tiers": [
        {"id": "one", "title": "One", "points": 50, "description": "first"},
        {"id": "two", "title": "Two", "points": 50, "description": "second"},
    ],
    "pass_points": 50,
    "files": {
        "brief": "brief.md",
        "starter": "starter.py",
        "notebook": "starter.ipynb",
        "grader": "grader.py",
        "recipe": "recipe.py",
        "variant": "variant.py",
    },
    "solutions": [{"file": "solutions/noop.py", "expect": {"passed": False, "tiers": []}}],
}
LAB_FILES = {
    "brief.md": "# Toy\n",
    "starter.py": "# %%\nprint(1)\n",
    "starter.ipynb": "{}\n",
    "grader.py": "def grade(ctx):\n    return {}\n",
    "recipe.py": "",
    "variant.py": "def variant(seed):\n    return {'offset': seed % 3}\n",
    "solutions/noop.py": "",
}
WHERE = "labs/toy-lab/manifest.yaml"


def write_lab(root: Path, manifest: dict | str, *, slug: str = "toy-lab", skip: tuple[str, ...] = ()) -> Path:
    lab = root / "labs" / slug
    for name, text in LAB_FILES.items():
        if name in skip:
            continue
        (lab / name).parent.mkdir(parents=True, exist_ok=True)
        (lab / name).write_text(text)
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest, sort_keys=False)
    (lab / "manifest.yaml").write_text(text)
    return root / "labs"


def errors_for(tmp_path: Path, **changes) -> list[str]:
    manifest = copy.deepcopy(VALID_MANIFEST)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = manifest
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is KeyError:
            del target[leaf]
        else:
            target[int(leaf) if leaf.isdigit() else leaf] = value
    _specs, errors = validate_labs(write_lab(tmp_path, manifest))
    return errors


def test_valid_manifest_gives_a_lab_spec(tmp_path):
    specs = discover_labs(write_lab(tmp_path, VALID_MANIFEST))
    assert [s.slug for s in specs] == ["toy-lab"]
    spec = specs[0]
    assert spec.limits.grader_timeout_s == 20.0
    assert spec.artifacts[0].max_bytes == 1000
    assert spec.files.variant == tmp_path / "labs" / "toy-lab" / "variant.py"
    assert spec.solutions[0].expect.tiers == ()


def test_unknown_key_is_an_error(tmp_path):
    assert errors_for(tmp_path, difficulty="hard") == [f"{WHERE}: difficulty: unknown key"]


def test_unknown_nested_key_is_an_error(tmp_path):
    assert errors_for(tmp_path, limits__gpu=True) == [f"{WHERE}: limits.gpu: unknown key"]


def test_missing_field_is_an_error(tmp_path):
    assert errors_for(tmp_path, summary=KeyError) == [f"{WHERE}: summary: missing required field"]


def test_missing_nested_field_is_an_error(tmp_path):
    assert errors_for(tmp_path, tiers__0__points=KeyError) == [
        f"{WHERE}: tiers[0].points: missing required field"
    ]


def test_non_positive_artifact_size_names_the_field(tmp_path):
    assert errors_for(tmp_path, artifacts__0__max_bytes=0) == [
        f"{WHERE}: artifacts[0].max_bytes: expected a positive integer"
    ]


def test_unknown_atlas_id_is_an_error(tmp_path):
    assert errors_for(tmp_path, atlas=["AML.T0015", "AML.T9999"]) == [
        f"{WHERE}: atlas[1]: AML.T9999 is not in MITRE ATLAS 5.6.0"
    ]


def test_malformed_atlas_id_is_an_error(tmp_path):
    assert errors_for(tmp_path, atlas=["T0015"]) == [
        f"{WHERE}: atlas[0]: 'T0015' is not an ATLAS technique or mitigation id"
    ]


def test_atlas_tactic_cannot_be_cited(tmp_path):
    assert errors_for(tmp_path, atlas=["AML.TA0004"]) == [
        f"{WHERE}: atlas[0]: 'AML.TA0004' is not an ATLAS technique or mitigation id"
    ]


def test_bad_subskill_is_an_error(tmp_path):
    assert errors_for(tmp_path, subskill="robustness") == [
        f"{WHERE}: subskill: unknown value 'robustness'; expected one of: model-security, "
        "data-security, infrastructure-security, privacy-preserving-ml, threat-modeling"
    ]


def test_bad_owasp_id_is_an_error(tmp_path):
    assert errors_for(tmp_path, owasp=["ML11"]) == [
        f"{WHERE}: owasp[0]: 'ML11' is not an OWASP ML Top 10 id (ML01..ML10)"
    ]


def test_missing_referenced_file_is_an_error(tmp_path):
    _specs, errors = validate_labs(write_lab(tmp_path, VALID_MANIFEST, skip=("grader.py",)))
    assert errors == [f"{WHERE}: files.grader: file 'grader.py' not found in toy-lab/"]


def test_file_outside_the_lab_folder_is_an_error(tmp_path):
    assert errors_for(tmp_path, files__recipe="../other/recipe.py") == [
        f"{WHERE}: files.recipe: '../other/recipe.py' must be a path inside the lab folder"
    ]


def test_expected_tier_must_exist(tmp_path):
    assert errors_for(tmp_path, solutions__0__expect__tiers=["three"]) == [
        f"{WHERE}: solutions[0].expect.tiers[0]: unknown tier 'three'"
    ]


def test_tier_points_must_add_up_to_100(tmp_path):
    assert errors_for(tmp_path, tiers__1__points=40) == [
        f"{WHERE}: tiers: points must add up to 100 (they add up to 90)"
    ]


def test_slug_must_match_the_folder(tmp_path):
    assert errors_for(tmp_path, slug="other-lab") == [
        f"{WHERE}: slug: 'other-lab' must equal the folder name 'toy-lab'"
    ]


def test_every_error_is_reported_at_once(tmp_path):
    errors = errors_for(tmp_path, difficulty="hard", level="guru", artifacts__0__max_bytes=-5)
    assert errors == [
        f"{WHERE}: difficulty: unknown key",
        f"{WHERE}: level: unknown value 'guru'; expected one of: beginner, intermediate, advanced, expert",
        f"{WHERE}: artifacts[0].max_bytes: expected a positive integer",
    ]


def test_discover_raises_with_every_error(tmp_path):
    labs_dir = write_lab(tmp_path, {**VALID_MANIFEST, "owasp": ["ML99"], "extra": 1})
    with pytest.raises(LabValidationError) as excinfo:
        discover_labs(labs_dir)
    assert len(excinfo.value.errors) == 2


def test_yaml_that_is_not_a_mapping_is_an_error(tmp_path):
    _specs, errors = validate_labs(write_lab(tmp_path, "- just\n- a list\n"))
    assert errors == [f"{WHERE}: (top level): expected a mapping"]


def test_folder_without_manifest_is_an_error_and_shared_folders_are_skipped(tmp_path):
    labs_dir = write_lab(tmp_path, VALID_MANIFEST)
    (labs_dir / "half-done").mkdir()
    (labs_dir / "_shared").mkdir()
    _specs, errors = validate_labs(labs_dir)
    assert errors == ["labs/half-done: no manifest.yaml in this lab folder"]


def test_missing_atlas_data_file_is_reported(tmp_path):
    with override_settings(ATLAS_DATA_FILE=tmp_path / "absent.yaml"):
        _specs, errors = validate_labs(write_lab(tmp_path, VALID_MANIFEST))
    assert len(errors) == 1
    assert "absent.yaml: MITRE ATLAS data file not found" in errors[0]


def test_the_real_labs_validate():
    specs = discover_labs()
    assert "adversarial-examples" in [s.slug for s in specs]


def test_the_real_labs_cite_ids_of_the_full_atlas_file():
    from mlrange.labs.registry import _atlas_problem

    real = Path(__file__).resolve().parents[2] / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
    if not real.is_file():
        pytest.skip("curriculum/reference/mitre-atlas-5.6.0.yaml is not vendored yet")
    with override_settings(ATLAS_DATA_FILE=real):
        for spec in discover_labs():
            assert [_atlas_problem(i) for i in spec.atlas] == [None] * len(spec.atlas)


def test_adversarial_lab_manifest_says_what_the_brief_says():
    spec = get_lab("adversarial-examples")
    assert (spec.subskill, spec.level) == ("model-security", "intermediate")
    assert spec.atlas == ("AML.T0043.000", "AML.T0015")
    assert spec.owasp == ("ML01",)
    assert [a.name for a in spec.artifacts] == ["adv_untargeted.npy", "adv_targeted.npy"]
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference_pgd": (True, {"untargeted", "targeted"}),
        "reference_art": (True, {"untargeted", "targeted"}),
        "fgsm": (False, {"untargeted"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_variant_is_deterministic_and_covers_every_offset():
    spec = get_lab("adversarial-examples")
    offsets = {lab_variant(spec, seed)["target_offset"] for seed in range(200)}
    assert offsets == set(range(1, 10))
    assert lab_variant(spec, 12345) == lab_variant(spec, 12345)


def test_lab_without_variant_file_has_an_empty_variant(tmp_path):
    manifest = copy.deepcopy(VALID_MANIFEST)
    del manifest["files"]["variant"]
    (spec,) = discover_labs(write_lab(tmp_path, manifest))
    assert lab_variant(spec, 7) == {}


def test_setup_cell_defines_lab_with_the_variant():
    spec = get_lab("adversarial-examples")
    namespace: dict = {}
    exec(setup_cell_source(spec, {"target_offset": 4}), namespace)  # noqa: S102 -- our own generated code
    assert namespace["LAB"] == {
        "slug": "adversarial-examples",
        "assets": "/lab-assets/adversarial-examples",
        "target_offset": 4,
    }


def test_get_lab_reuses_a_valid_spec_until_a_file_of_the_pack_changes(tmp_path):
    labs_dir = write_lab(tmp_path, VALID_MANIFEST)
    first = get_lab("toy-lab", labs_dir)
    assert get_lab("toy-lab", labs_dir) is first  # not parsed and validated again

    edited = {**copy.deepcopy(VALID_MANIFEST), "title": "A toy lab, renamed"}
    (labs_dir / "toy-lab" / "manifest.yaml").write_text(yaml.safe_dump(edited, sort_keys=False))
    assert get_lab("toy-lab", labs_dir).title == "A toy lab, renamed"

    (labs_dir / "toy-lab" / "grader.py").unlink()  # a file the manifest names
    with pytest.raises(LabValidationError):
        get_lab("toy-lab", labs_dir)
