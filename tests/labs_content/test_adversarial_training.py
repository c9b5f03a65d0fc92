"""The adversarial-training lab: manifest, notebook, variant and grader (runtime python).

Solutions and graders run as plain runtime subprocesses (trusted code: ours);
`manage.py check_labs adversarial-training` runs every listed solution (the ART one and both
masked ones included) through the real sandbox over three seeds.
"""

import json
import textwrap
from pathlib import Path

import pytest

from mlrange.labs.registry import lab_variant
from tests.labs_content.harness import (
    check,
    grade_many,
    lab_spec_in_isolation,
    passed_tiers,
    run_python,
    run_solution,
)

SLUG = "adversarial-training"
TIERS = {"clean", "robust", "genuine"}
SEED = 2
# L2 distance over ink levels 0..16 (pixels x 16). Bundled digits lie 16.1 from their nearest
# other bundled digit (median), 9.3 at the 1st percentile; the recipe's re-rendered images lie
# at least 12 from every bundled digit. Closer than this would be a near-copy.
NEAR_COPY_DISTANCE = 9.0


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lab_spec_in_isolation(SLUG, tmp_path_factory.mktemp("labs"))


def test_manifest_validates_against_atlas_and_lists_its_solutions(spec):
    assert spec.slug == SLUG
    assert spec.subskill == "model-security"
    assert {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions} == {
        "reference_pgd": (True, TIERS),
        "reference_art": (True, TIERS),
        "cheat_memorise_test_set": (False, set()),
        "plain": (False, {"clean"}),
        "masked_robust": (False, {"clean", "robust"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_a_permutation_that_differs_between_learners(spec):
    assert lab_variant(spec, 1) == lab_variant(spec, 1)
    orders = [tuple(lab_variant(spec, seed)["class_order"]) for seed in range(50)]
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert tuple(range(10)) not in orders
    assert len(set(orders)) == 50


@pytest.fixture(scope="module")
def built(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets_dir = tmp_path_factory.mktemp("lab-assets")
    build_lab_assets(spec, assets_dir=assets_dir)
    return lab_asset_dirs(SLUG, assets_dir)


@pytest.fixture(scope="module")
def graded(spec, built, tmp_path_factory):
    root = tmp_path_factory.mktemp("graded")
    variant = lab_variant(spec, SEED)
    params = {"variant": variant, "grader_seed": 9}
    wanted = ("reference_pgd", "plain", "cheat_memorise_test_set", "starter", "noop")
    outputs = {
        s.name: run_solution(
            spec, s.file.read_text(), variant=variant, public_dir=built.public, workdir=root / s.name
        )
        for s in spec.solutions
        if s.name in wanted
    }
    jobs = {name: (path, params) for name, path in outputs.items()}
    jobs.update(_crafted_cases(outputs["reference_pgd"], outputs["plain"], root, params))
    other = lab_variant(spec, SEED + 1)
    jobs["reference_for_another_class_order"] = (
        outputs["reference_pgd"],
        {"variant": other, "grader_seed": 9},
    )
    # Each full evaluation takes ~10 s of CPU: grade those one per process, so that no single
    # harness call nears its timeout on a busy machine; the cheap ones share one process.
    heavy = ["reference_pgd", "plain", "cheat_memorise_test_set", "masked_robust", "masked_plain"]
    groups = [[name] for name in heavy] + [[name for name in jobs if name not in heavy]]
    reports = {}
    for group in groups:
        results = grade_many(
            grader_dir=built.grader,
            public_dir=built.public,
            hidden_dir=built.hidden,
            jobs=[jobs[n] for n in group],
            cwd=root,
        )
        reports.update(zip(group, results, strict=True))
    return reports


BROKEN = {
    "wrong_keys": "does not fit DigitCNN",
    "wrong_shape": "DigitCNN expects (64, 512)",
    "float64": "has dtype torch.float64; expected torch.float32",
    "nan_weights": "contains NaN or infinite values",
    "huge_weights": "has weights larger than",
    "pickled": "is not a plain state_dict loadable with weights_only=True",
    "not_a_dict": "must hold a dict of tensors",
    "symlink": "is a symbolic link; hand in a regular file.",
    "sparse": "must be a plain dense float32 tensor",
}


def _crafted_cases(reference: Path, plain: Path, root: Path, params: dict) -> dict:
    """Broken copies of the reference model; the reference and the plain model with masked logits."""
    crafted = [*BROKEN, "masked_robust", "masked_plain"]
    for case in crafted:
        (root / case).mkdir()
    run_python(
        textwrap.dedent(
            f"""
            import fractions, torch
            from pathlib import Path
            root = Path({str(root)!r})
            state = torch.load({str(reference / "robust_model.pt")!r}, weights_only=True)
            def save(case, obj):
                torch.save(obj, root / case / "robust_model.pt")
            save("wrong_keys", {{"net." + k: v for k, v in state.items()}})
            save("wrong_shape", {{**state, "classifier.1.weight": torch.zeros(64, 512 + 1)}})
            save("float64", {{k: v.double() for k, v in state.items()}})
            bad = dict(state); bad["classifier.3.bias"] = state["classifier.3.bias"].clone()
            bad["classifier.3.bias"][0] = float("nan"); save("nan_weights", bad)
            save("huge_weights", {{**state, "classifier.3.bias": state["classifier.3.bias"] * 1e9}})
            save("pickled", {{"state": state, "note": fractions.Fraction(1, 3)}})
            save("not_a_dict", list(state.values()))
            masked = dict(state)
            masked["classifier.3.weight"] = state["classifier.3.weight"] * 1e4
            masked["classifier.3.bias"] = state["classifier.3.bias"] * 1e4
            save("masked_robust", masked)
            plain = torch.load({str(plain / "robust_model.pt")!r}, weights_only=True)
            plain["classifier.3.weight"] = plain["classifier.3.weight"] * 1e4
            plain["classifier.3.bias"] = plain["classifier.3.bias"] * 1e4
            save("masked_plain", plain)
            save("sparse", {{**state, "classifier.3.bias": state["classifier.3.bias"].to_sparse()}})
            """
        ),
        cwd=root,
    )
    (root / "symlink" / "robust_model.pt").symlink_to(reference / "robust_model.pt")
    return {case: (root / case, params) for case in crafted}


pytestmark = pytest.mark.slow


def test_reference_passes_every_tier_with_margin(graded):
    report = graded["reference_pgd"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["robust_accuracy"] >= 0.66
    assert report["metrics"]["large_epsilon_accuracy"] <= 0.05


def test_plain_training_gets_the_clean_tier_only(graded):
    report = graded["plain"]
    assert passed_tiers(report, TIERS) == {"clean"}
    assert report["metrics"]["robust_accuracy"] < 0.55
    assert "Madry" in check(report, "robust")["feedback"]


def test_rescaled_logits_are_caught_as_gradient_masking(graded):
    report = graded["masked_robust"]
    assert passed_tiers(report, TIERS) == {"clean", "robust"}
    assert report["passed"] is False
    metrics = report["metrics"]
    assert metrics["pgd_ce_accuracy"] - metrics["robust_accuracy"] > 0.1
    assert "Gradient masking: cross-entropy PGD reports" in check(report, "genuine")["feedback"]


def test_masked_logits_without_robustness_fail_the_robust_tier(graded):
    report = graded["masked_plain"]
    assert passed_tiers(report, TIERS) == {"clean"}
    metrics = report["metrics"]
    assert metrics["pgd_ce_accuracy"] > 0.9  # what a cross-entropy-only evaluation would have believed
    assert metrics["robust_accuracy"] < 0.55


def test_starter_and_noop_score_nothing(graded):
    assert graded["starter"]["score"] == 0
    assert "Not attacked" in check(graded["starter"], "robust")["feedback"]
    assert graded["noop"]["score"] == 0
    assert "was not handed in" in check(graded["noop"], "model-file")["feedback"]


def test_a_model_for_another_class_order_scores_nothing(graded):
    report = graded["reference_for_another_class_order"]
    assert report["score"] == 0
    assert report["metrics"]["clean_accuracy"] < 0.5
    assert "class_order" in check(report, "clean")["feedback"]


@pytest.mark.parametrize(("case", "feedback"), list(BROKEN.items()))
def test_broken_model_file_fails_its_check_without_crashing(graded, case, feedback):
    report = graded[case]
    assert report["score"] == 0
    assert check(report, "model-file")["passed"] is False
    assert feedback in check(report, "model-file")["feedback"]


def test_no_image_is_a_copy_or_near_copy_of_a_bundled_digit(built, tmp_path):
    """The sandbox ships scikit-learn: neither split may be matched back to load_digits images."""
    out = run_python(
        textwrap.dedent(
            f"""
            import json
            import numpy as np
            from sklearn.datasets import load_digits
            from sklearn.neighbors import NearestNeighbors
            bundled = load_digits().images.reshape(-1, 64)
            index = NearestNeighbors(n_neighbors=2).fit(bundled)
            between = index.kneighbors(bundled)[0][:, 1]  # [:, 0] is the digit itself
            result = {{"between_q01": float(np.quantile(between, 0.01))}}
            for name, path in (("train", {str(built.public / "x_train.npy")!r}),
                               ("test", {str(built.hidden / "x_test.npy")!r})):
                levels = np.load(path).reshape(-1, 64) * 16.0
                result[name] = float(index.kneighbors(levels, n_neighbors=1)[0][:, 0].min())
            print(json.dumps(result))
            """
        ),
        cwd=tmp_path,
    )
    distances = json.loads(out.strip().splitlines()[-1])
    assert distances["test"] > NEAR_COPY_DISTANCE  # the grader's held-out images above all
    assert distances["train"] > NEAR_COPY_DISTANCE
    assert distances["between_q01"] >= NEAR_COPY_DISTANCE  # d is no looser than the digits' own spacing


def test_training_on_the_bundled_digits_does_not_reach_the_test_set(graded):
    report = graded["cheat_memorise_test_set"]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) == set()
    assert report["metrics"]["clean_accuracy"] < 0.86
    assert report["metrics"]["robust_accuracy"] < 0.55
