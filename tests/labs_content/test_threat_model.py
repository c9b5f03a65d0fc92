"""The threat-model lab: manifest, notebook, ATLAS data, variant and the grader (runtime python).

`manage.py check_labs threat-model` runs the same solutions through the sandbox.
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_solution

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "threat-model"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"structure", "coverage-core", "coverage-full", "stride", "mitigations", "residual"}
SYSTEMS = ("fraud-detection", "healthcare-chatbot", "face-access-control", "malware-detection")


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill) == ("threat-model", "threat-modeling")
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive_stride": (False, {"structure", "stride"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_gives_every_system(spec):
    from mlrange.labs.registry import lab_variant

    assert {lab_variant(spec, seed)["system"] for seed in range(10)} == set(SYSTEMS)


def test_answer_key_cites_only_real_techniques_with_real_systems():
    categories_by_system = json.loads((LAB_DIR / "categories.json").read_text())
    data = yaml.safe_load(ATLAS.read_text())
    techniques = {t["id"] for t in data["matrices"][0]["techniques"]}
    assert set(categories_by_system) == set(SYSTEMS)
    for categories in categories_by_system.values():
        for category in categories.values():
            assert set(category["techniques"]) <= techniques, category["title"]
            assert not any(t in category["title"] for t in techniques)


@pytest.fixture(scope="module")
def built(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets = tmp_path_factory.mktemp("tm-assets")
    build_lab_assets(spec, assets_dir=assets)
    return lab_asset_dirs(spec.slug, assets)


def test_recipe_parses_atlas_exactly_like_a_yaml_parser(built):
    compact = json.loads((built.hidden / "atlas-5.6.0.json").read_text())
    matrix = yaml.safe_load(ATLAS.read_text())["matrices"][0]
    assert compact["version"] == "5.6.0"
    assert compact["techniques"] == {
        t["id"]: {"name": t["name"], "parent": t.get("subtechnique-of")} for t in matrix["techniques"]
    }
    assert compact["mitigations"] == {
        m["id"]: {"name": m["name"], "techniques": [t["id"] for t in m.get("techniques", [])]}
        for m in matrix["mitigations"]
    }
    assert (built.public / "atlas-5.6.0.json").read_bytes() == (
        built.hidden / "atlas-5.6.0.json"
    ).read_bytes()


def _edited(root: Path, name: str, source: Path, edit) -> Path:
    folder = root / name
    shutil.copytree(source, folder)
    path = folder / "threat_model.json"
    model = json.loads(path.read_text())
    result = edit(model)
    path.write_text(result if isinstance(result, str) else json.dumps(model))
    return folder


@pytest.fixture(scope="module")
def graded(spec, built, tmp_path_factory):
    root = tmp_path_factory.mktemp("tm-graded")
    jobs = {}
    runs = {}
    for system in SYSTEMS:
        for solution in spec.solutions:
            folder = root / f"{solution.name}-{system}"
            run_solution(
                spec,
                solution.file.read_text(),
                variant={"system": system},
                public_dir=built.public,
                workdir=folder,
            )
            runs[(solution.name, system)] = folder
            jobs[f"{solution.name}@{system}"] = (folder, {"variant": {"system": system}, "grader_seed": 1})
    fraud = runs[("reference", "fraud-detection")]
    fraud_params = {"variant": {"system": "fraud-detection"}, "grader_seed": 1}
    jobs["wrong_system"] = (fraud, {"variant": {"system": "healthcare-chatbot"}, "grader_seed": 1})

    def threat0(key, value):
        def edit(model):
            model["threats"][0][key] = value

        return edit

    edits = {
        "not_json": lambda model: "{not json",
        "fake_technique": threat0("atlas", ["AML.T9999"]),
        "tactic_as_technique": threat0("atlas", ["AML.TA0004"]),
        "mitigation_as_technique": threat0("atlas", ["AML.M0003"]),
        "fake_mitigation": threat0("mitigations", [{"atlas": "AML.M0999", "description": "made up control"}]),
        "shotgun": threat0("atlas", ["AML.T0015", "AML.T0020", "AML.T0024", "AML.T0029"]),
        "bad_stride": threat0("stride", "Hacking"),
        "unknown_asset": threat0("assets", ["A99"]),
        "ungrounded": threat0("mitigations", [{"atlas": "AML.M0018", "description": "train the staff"}]),
        "residual_above_inherent": _residual_above_inherent,
        "array": lambda model: "[]",
    }
    for name, edit in edits.items():
        jobs[name] = (_edited(root, name, fraud, edit), fraud_params)
    symlink = root / "symlink"
    symlink.mkdir()
    (symlink / "threat_model.json").symlink_to(fraud / "threat_model.json")
    jobs["symlink"] = (symlink, fraud_params)
    names = list(jobs)
    reports = grade_many(
        grader_dir=built.grader,
        public_dir=built.public,
        hidden_dir=built.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


def _residual_above_inherent(model):
    threat = model["threats"][0]
    threat.update(likelihood="low", impact="low", residual_risk="high")


@pytest.mark.slow
@pytest.mark.parametrize("system", SYSTEMS)
def test_reference_passes_for_every_system(graded, system):
    report = graded[f"reference@{system}"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["categories_covered"] == report["metrics"]["categories_required"]


@pytest.mark.slow
@pytest.mark.parametrize("system", SYSTEMS)
def test_naive_stride_model_misses_categories_and_feedback_names_them_not_ids(graded, system):
    report = graded[f"naive_stride@{system}"]
    assert report["passed"] is False
    assert report["score"] == 25
    assert passed_tiers(report, TIERS) == {"structure", "stride"}
    feedback = check(report, "coverage-full")["feedback"]
    assert "Not covered:" in feedback
    assert "AML.T" not in feedback
    assert "AML.M" not in feedback


@pytest.mark.slow
@pytest.mark.parametrize("name", ["starter@fraud-detection", "noop@healthcare-chatbot"])
def test_starter_and_noop_score_nothing(graded, name):
    report = graded[name]
    assert report["score"] == 0
    assert report["passed"] is False


@pytest.mark.slow
def test_threat_model_of_the_other_system_fails(graded):
    report = graded["wrong_system"]
    assert report["score"] == 0
    assert "your system is 'healthcare-chatbot'" in check(report, "structure")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("not_json", "is not valid UTF-8 JSON"),
        ("array", "must hold one JSON object"),
        ("fake_technique", "AML.T9999 is not a technique in MITRE ATLAS 5.6.0"),
        ("tactic_as_technique", "'AML.TA0004' is not an ATLAS technique id"),
        ("mitigation_as_technique", "'AML.M0003' is not an ATLAS technique id"),
        ("fake_mitigation", "'AML.M0999' is not a mitigation in MITRE ATLAS 5.6.0"),
        ("shotgun", "atlas must be a list of 1 to 3 entries"),
        ("bad_stride", "stride must be one of"),
        ("unknown_asset", "names unknown asset ids ['A99']"),
        ("symlink", "threat_model.json is a symbolic link"),
    ],
)
def test_malformed_threat_model_fails_the_structure_check_without_crashing(graded, case, feedback):
    report = graded[case]
    assert report["score"] == 0
    structure = check(report, "structure")
    assert structure["passed"] is False
    assert feedback in structure["feedback"]


@pytest.mark.slow
def test_mitigation_that_atlas_does_not_tie_to_the_threat_fails_the_mitigation_tier(graded):
    report = graded["ungrounded"]
    assert passed_tiers(report, TIERS) == TIERS - {"mitigations"}
    assert "'T1'" in check(report, "mitigations")["feedback"]


@pytest.mark.slow
def test_residual_risk_above_the_inherent_risk_fails_the_residual_tier(graded):
    report = graded["residual_above_inherent"]
    assert passed_tiers(report, TIERS) == TIERS - {"residual"}
