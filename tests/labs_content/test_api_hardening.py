"""The api-hardening lab: manifest, notebook, and the grader run with the runtime python.

The grader loads each submission's FastAPI app in a child process (through
_shared.callee.LearnerProcess, behind the Landlock prelude) and replays its request mix;
`manage.py check_labs api-hardening` runs the same solutions through the real sandbox.
"""

import re
import shutil
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "api-hardening"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"validation", "limits", "access", "errors"}
SEED = 7


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill, spec.level) == (
        "api-hardening",
        "infrastructure-security",
        "intermediate",
    )
    assert spec.atlas == ("AML.T0029", "AML.T0040", "AML.T0049", "AML.M0004", "AML.M0019")
    assert sum(t.points for t in spec.tiers) == 100
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive": (False, {"validation", "errors"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_per_learner(spec):
    from mlrange.labs.registry import lab_variant

    one, again, other = lab_variant(spec, SEED), lab_variant(spec, SEED), lab_variant(spec, SEED + 1)
    assert one == again
    assert len(set(one["api_keys"])) == 16
    assert set(one["api_keys"]).isdisjoint(other["api_keys"])
    values = {(lab_variant(spec, s)["rate_limit"], lab_variant(spec, s)["max_batch"]) for s in range(60)}
    assert {r for r, _ in values} == {20, 24, 30}
    assert {b for _, b in values} == {8, 12, 16}


def _submission(root: Path, name: str, source: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "submission.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    """Build the assets, then grade the solutions and broken submissions in one process."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    assets = tmp_path_factory.mktemp("api-assets")
    build_lab_assets(spec, assets_dir=assets)
    dirs = lab_asset_dirs(spec.slug, assets)
    root = tmp_path_factory.mktemp("api-graded")
    variant = lab_variant(spec, SEED)
    params = {"variant": variant, "grader_seed": 11}
    reference = (LAB_DIR / "solutions" / "reference.py").read_text()
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    sources["syntax_error"] = "app = (\n"
    sources["crash_on_import"] = "raise RuntimeError('boom')\n"
    sources["not_an_app"] = "app = 42\n"
    sources["reads_hidden"] = reference + (
        "\ntry:\n"
        f"    open({str(dirs.hidden / 'benign_rows.npy')!r}, 'rb').read()\n"
        "    app = None  # the grader's files were readable: sabotage the app\n"
        "except OSError:\n"
        "    pass\n"
    )
    jobs = {name: (_submission(root, name, code), params) for name, code in sources.items()}
    missing = root / "missing"
    missing.mkdir()
    jobs["missing"] = (missing, params)
    link = root / "symlink"
    link.mkdir()
    (link / "submission.py").symlink_to(jobs["reference"][0] / "submission.py")
    jobs["symlink"] = (link, params)
    # An app copied from another learner: their keys and limits hard-coded over this LAB.
    copied = f"LAB = {{**LAB, **{lab_variant(spec, SEED + 1)!r}}}\n" + reference
    jobs["reference_other_variant"] = (_submission(root, "copied", copied), params)
    for seed in (1, 2, 3):
        jobs[f"reference_seed_{seed}"] = (jobs["reference"][0], {"variant": variant, "grader_seed": seed})
    names = list(jobs)
    reports = grade_many(
        grader_dir=dirs.grader,
        public_dir=dirs.public,
        hidden_dir=dirs.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    shutil.rmtree(root / "missing", ignore_errors=True)
    return dict(zip(names, reports, strict=True))


def test_reference_passes_every_tier_over_grader_seeds(graded):
    for name in ("reference", "reference_seed_1", "reference_seed_2", "reference_seed_3"):
        report = graded[name]
        assert report["passed"] is True, name
        assert passed_tiers(report, TIERS) == TIERS, name
        assert report["metrics"]["benign_served"] == 1.0
        assert report["metrics"]["isolated"] == 1.0


def test_naive_schema_only_gets_validation_and_errors(graded):
    report = graded["naive"]
    assert report["passed"] is False
    assert report["score"] == 55
    assert passed_tiers(report, TIERS) == {"validation", "errors"}
    assert "413" in check(report, "limits")["feedback"]
    assert "429" in check(report, "access")["feedback"]


def test_vulnerable_starter_scores_nothing(graded):
    report = graded["starter"]
    assert report["score"] == 0
    assert check(report, "benign")["passed"] is True
    errors = check(report, "errors")["feedback"]
    assert "5xx" in errors
    assert "Traceback" in errors


def test_noop_fails_with_a_clear_message(graded):
    report = graded["noop"]
    assert report["score"] == 0
    assert "defines no `app`" in check(report, "app-runs")["feedback"]


@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("syntax_error", "your code failed to load: SyntaxError"),
        ("crash_on_import", "your code failed to load: RuntimeError: boom"),
        ("not_an_app", "raised TypeError"),
        ("missing", "submission.py missing"),
        ("symlink", "submission.py missing"),
    ],
)
def test_broken_submission_fails_without_crashing_the_grader(graded, case, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert report["score"] == 0
    assert feedback in check(report, "app-runs")["feedback"]


def test_app_built_for_another_learner_fails(graded):
    report = graded["reference_other_variant"]
    assert report["passed"] is False
    assert check(report, "benign")["passed"] is False
    assert "401" in check(report, "benign")["feedback"]


def test_learner_code_cannot_read_the_grader_files(graded):
    report = graded["reads_hidden"]
    assert report["metrics"]["isolated"] == 1.0
    assert report["passed"] is True


def test_feedback_never_contains_the_grader_canary_or_keys(graded, spec):
    from mlrange.labs.registry import lab_variant

    keys = lab_variant(spec, SEED)["api_keys"]
    for report in graded.values():
        for item in report["checks"]:
            assert re.search(r"zq[0-9a-f]{10}", item["feedback"]) is None  # the grader's canary
            assert not any(key in item["feedback"] for key in keys)
