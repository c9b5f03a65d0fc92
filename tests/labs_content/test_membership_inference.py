"""The membership-inference lab: manifest, variant, notebook, and its grader on the lab's own
solutions and on broken artifacts, run with the runtime python (check_labs runs the same
solutions through the real sandbox)."""

import textwrap
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_python, run_solution

SLUG = "membership-inference"
REPO = Path(__file__).resolve().parents[2]
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"auc", "low-fpr"}
SEED = 1  # learner seed of these tests: target model 1


@pytest.fixture(autouse=True)
def _full_atlas():
    """This lab cites ids beyond the conftest's small ATLAS subset: validate against the real file."""
    with override_settings(ATLAS_DATA_FILE=ATLAS):
        yield


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import get_lab

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        return get_lab(SLUG, REPO / "labs")


def test_manifest_validates_and_says_what_the_brief_says(spec):
    assert (spec.subskill, spec.level) == ("privacy-preserving-ml", "intermediate")
    assert spec.atlas == ("AML.T0024.000",)
    assert spec.owasp == ("ML04",)
    assert [a.name for a in spec.artifacts] == ["scores.npy"]
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference_lira": (True, TIERS),
        "loss_threshold": (True, {"auc"}),
        "correctness": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }
    brief = spec.files.brief.read_text()
    assert "0.76" in brief
    assert "0.05" in brief
    assert "AML.T0024.000" in brief


def test_committed_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_covers_every_target(spec):
    from mlrange.labs.registry import lab_variant

    assert {lab_variant(spec, seed)["target_model"] for seed in range(64)} == set(range(16))
    assert lab_variant(spec, 77) == lab_variant(spec, 77)


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    """Run the solutions, craft broken artifacts, grade everything in one runtime process."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    build_lab_assets(spec)  # cached: a no-op while the recipe, grader and runtime are unchanged
    dirs = lab_asset_dirs(SLUG)
    variant = lab_variant(spec, SEED)
    root = tmp_path_factory.mktemp("mi-graded")
    outputs = {
        s.name: run_solution(
            spec, s.file.read_text(), variant=variant, public_dir=dirs.public, workdir=root / s.name
        )
        for s in spec.solutions
    }
    cases = ["wrong_shape", "float32", "nan", "pickled", "symlink", "oversized"]
    for case in cases:
        (root / case).mkdir()
    run_python(
        textwrap.dedent(
            f"""
            import numpy as np
            from pathlib import Path
            root = Path({str(root)!r})
            scores = np.load({str(outputs["reference_lira"] / "scores.npy")!r})
            np.save(root / "wrong_shape" / "scores.npy", scores[:999])
            np.save(root / "float32" / "scores.npy", scores.astype(np.float32))
            bad = scores.copy(); bad[7] = np.nan; np.save(root / "nan" / "scores.npy", bad)
            obj = np.empty(10, dtype=object); obj[:] = list(scores[:10])
            np.save(root / "pickled" / "scores.npy", obj, allow_pickle=True)
            np.save(root / "oversized" / "scores.npy", np.zeros(5000))
            """
        ),
        cwd=root,
    )
    (root / "symlink" / "scores.npy").symlink_to(outputs["reference_lira"] / "scores.npy")
    params = {"variant": variant, "grader_seed": 11}
    jobs = {name: (path, params) for name, path in outputs.items()}
    jobs.update({case: (root / case, params) for case in cases})
    other = lab_variant(spec, SEED + 1)
    assert other != variant
    jobs["lira_graded_for_another_target"] = (outputs["reference_lira"], {"variant": other, "grader_seed": 3})
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
def test_reference_lira_passes_both_tiers_with_margin(graded):
    report = graded["reference_lira"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["auc"] >= 0.80
    assert report["metrics"]["tpr_at_1pct_fpr"] >= 0.07


@pytest.mark.slow
def test_loss_attack_gets_the_auc_tier_only(graded):
    report = graded["loss_threshold"]
    assert report["passed"] is True
    assert report["score"] == 70
    assert passed_tiers(report, TIERS) == {"auc"}
    assert "reference models" in check(report, "low-fpr")["feedback"]


@pytest.mark.slow
def test_correctness_attack_starter_and_noop_fail(graded):
    assert graded["correctness"]["metrics"]["auc"] <= 0.73
    assert "loss" in check(graded["correctness"], "auc")["feedback"]
    assert graded["starter"]["metrics"]["auc"] == 0.5
    for name in ("correctness", "starter", "noop"):
        assert graded[name]["passed"] is False, name
        assert graded[name]["score"] == 0, name
    assert check(graded["noop"], "scores-file")["feedback"] == (
        "scores.npy was not handed in: write it into the working folder."
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("wrong_shape", "has shape (999,); expected (1000,)"),
        ("float32", "has dtype float32; expected float64"),
        ("nan", "contains 1 NaN or infinite values"),
        ("pickled", "holds pickled Python objects, which are refused"),
        ("symlink", "is a symbolic link"),
        ("oversized", "the limit is 16384 bytes"),
    ],
)
def test_broken_artifact_fails_its_file_check_without_crashing(graded, case, feedback):
    report = graded[case]
    assert check(report, "scores-file")["passed"] is False
    assert feedback in check(report, "scores-file")["feedback"]
    assert report["score"] == 0
    assert report["passed"] is False


@pytest.mark.slow
def test_scores_made_for_another_target_are_worthless(graded):
    report = graded["lira_graded_for_another_target"]
    assert report["passed"] is False
    assert 0.4 <= report["metrics"]["auc"] <= 0.6


@pytest.mark.slow
def test_feedback_never_names_candidates(graded):
    for report in graded.values():
        for c in report["checks"]:
            assert "index" not in c["feedback"].lower(), c["feedback"]
            assert "[" not in c["feedback"], c["feedback"]


def test_grader_metrics_are_exact_on_tiny_examples(tmp_path):
    """AUC counts ties as one half; TPR at low FPR never profits from ties."""
    run_python(
        textwrap.dedent(
            f"""
            import sys
            import numpy as np
            sys.path.insert(0, {str(REPO / "labs")!r})
            sys.path.insert(0, {str(REPO / "labs" / SLUG)!r})
            from grader import roc_auc, tpr_at_fpr
            members = np.array([1, 1, 0, 0], dtype=bool)
            assert roc_auc(np.array([3.0, 2.0, 1.0, 0.0]), members) == 1.0
            assert roc_auc(np.zeros(4), members) == 0.5
            assert roc_auc(np.array([0.0, 1.0, 2.0, 3.0]), members) == 0.0
            m = np.r_[np.ones(100, bool), np.zeros(100, bool)]
            assert tpr_at_fpr(np.ones(200), m, 0.01) == 0.0
            s = np.r_[np.linspace(1, 2, 100), np.linspace(0, 1.5, 100)]
            assert tpr_at_fpr(s, m, 0.01) == float((s[:100] > np.sort(s[100:])[::-1][1]).mean())
            """
        ),
        cwd=tmp_path,
    )
