"""The dp-sgd-budget lab: manifest, variant, notebook, and its grader (which trains with Opacus
and computes epsilon itself) on the lab's solutions and on malformed configurations, run with
the runtime python (check_labs runs the same solutions through the real sandbox)."""

import json
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_solution

SLUG = "dp-sgd-budget"
REPO = Path(__file__).resolve().parents[2]
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"epsilon", "utility", "audit"}
SEED = 1  # learner seed of these tests: budget 3.5
GOOD = {
    "noise_multiplier": 5.0,
    "max_grad_norm": 1.0,
    "batch_size": 250,
    "epochs": 30,
    "lr": 1.0,
    "momentum": 0.0,
}


@pytest.fixture(autouse=True)
def _full_atlas():
    with override_settings(ATLAS_DATA_FILE=ATLAS):
        yield


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import get_lab

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        return get_lab(SLUG, REPO / "labs")


def test_manifest_validates_and_says_what_the_brief_says(spec):
    assert (spec.subskill, spec.level) == ("privacy-preserving-ml", "advanced")
    assert spec.atlas == ("AML.T0024.000", "AML.T0024.001")
    assert spec.owasp == ("ML04", "ML03")
    assert [a.name for a in spec.artifacts] == ["dp_config.json"]
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference_opacus": (True, TIERS),
        "too_much_noise": (False, {"epsilon", "audit"}),
        "naive_noise_one": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }
    brief = spec.files.brief.read_text()
    for line in ("0.65", "0.58", "1e-5"):
        assert line in brief
    assert "get_noise_multiplier" in spec.hints[-1]  # the method is a hint now, not in the brief


def test_committed_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_covers_every_budget(spec):
    from mlrange.labs.registry import lab_variant

    assert {lab_variant(spec, s)["epsilon_budget"] for s in range(9)} == {3.0, 3.5, 4.0}
    assert lab_variant(spec, SEED) == {"epsilon_budget": 3.5}


BROKEN = {
    "not_json": b"noise_multiplier = 5\n",
    "nan": json.dumps(GOOD).replace("5.0", "NaN").encode(),
    "unknown_key": json.dumps({**GOOD, "secure_mode": False}).encode(),
    "missing_key": json.dumps({k: v for k, v in GOOD.items() if k != "lr"}).encode(),
    "too_many_steps": json.dumps({**GOOD, "batch_size": 16, "epochs": 100}).encode(),
    "bool_value": json.dumps({**GOOD, "epochs": True}).encode(),
    "a_list": b"[1, 2, 3]",
    "oversized": json.dumps({**GOOD, "pad": "x" * 5000}).encode(),
}


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    build_lab_assets(spec)
    dirs = lab_asset_dirs(SLUG)
    variant = lab_variant(spec, SEED)
    root = tmp_path_factory.mktemp("dp-graded")
    outputs = {
        s.name: run_solution(
            spec, s.file.read_text(), variant=variant, public_dir=dirs.public, workdir=root / s.name
        )
        for s in spec.solutions
    }
    params = {"variant": variant, "grader_seed": 21}
    jobs = {name: (path, params) for name, path in outputs.items()}
    for name, data in BROKEN.items():
        (root / name).mkdir()
        (root / name / "dp_config.json").write_bytes(data)
        jobs[name] = (root / name, params)
    (root / "symlink").mkdir()
    (root / "symlink" / "dp_config.json").symlink_to(outputs["reference_opacus"] / "dp_config.json")
    jobs["symlink"] = (root / "symlink", params)
    jobs["reference_for_3_5_graded_at_3_0"] = (
        outputs["reference_opacus"],
        {"variant": {"epsilon_budget": 3.0}, "grader_seed": 5},
    )
    names = list(jobs)
    reports = grade_many(
        grader_dir=dirs.grader,
        public_dir=dirs.public,
        hidden_dir=dirs.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


@pytest.mark.slow
def test_reference_passes_every_tier_with_margin(graded):
    report = graded["reference_opacus"]
    assert report["passed"] is True
    assert passed_tiers(report, TIERS) == TIERS
    metrics = report["metrics"]
    assert metrics["epsilon"] <= 3.5
    assert metrics["accuracy"] >= 0.69
    assert metrics["attack_auc"] <= 0.57


@pytest.mark.slow
def test_too_much_noise_is_private_but_useless(graded):
    report = graded["too_much_noise"]
    assert passed_tiers(report, TIERS) == {"epsilon", "audit"}
    assert report["score"] == 60
    assert report["metrics"]["accuracy"] < 0.5
    assert "More noise than needed" in check(report, "utility")["feedback"]


@pytest.mark.slow
def test_over_budget_starter_and_noop_score_nothing(graded):
    naive = graded["naive_noise_one"]
    assert naive["metrics"]["epsilon"] > 5
    assert "over your budget" in check(naive, "epsilon")["feedback"]
    assert "not awarded" in check(naive, "utility")["feedback"]
    assert "no privacy guarantee" in check(graded["starter"], "epsilon")["feedback"]
    for name in ("naive_noise_one", "starter", "noop"):
        assert graded[name]["score"] == 0, name
    assert "was not handed in" in check(graded["noop"], "config-file")["feedback"]


@pytest.mark.slow
def test_a_config_tuned_for_a_looser_budget_fails_a_tighter_one(graded):
    report = graded["reference_for_3_5_graded_at_3_0"]
    assert check(report, "epsilon")["passed"] is False
    assert report["passed"] is False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("not_json", "is not valid JSON"),
        ("nan", "is not valid JSON"),
        ("unknown_key", "unknown keys ['secure_mode']"),
        ("missing_key", "missing keys ['lr']"),
        ("too_many_steps", "at most 2000 are allowed"),
        ("bool_value", "epochs must be a number"),
        ("a_list", "must be a JSON object"),
        ("oversized", "the limit is 4096 bytes"),
        ("symlink", "is a symbolic link"),
    ],
)
def test_malformed_config_fails_its_file_check_without_crashing(graded, case, feedback):
    report = graded[case]
    assert check(report, "config-file")["passed"] is False
    assert feedback in check(report, "config-file")["feedback"]
    assert report["score"] == 0
