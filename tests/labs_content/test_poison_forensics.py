"""The poison-forensics lab: manifest, notebook, variant and grader (runtime python).

Solutions and graders run as plain runtime subprocesses (trusted code: ours);
`manage.py check_labs poison-forensics` runs the same solutions through the real sandbox.
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

SLUG = "poison-forensics"
TIERS = {"flips", "backdoor", "full-backdoor"}
SEED = 6
# L2 distance over ink levels 0..16. Bundled digits lie 16.1 from their nearest other bundled
# digit (median), 9.3 at the 1st percentile; the recipe's re-rendered images lie at least 11.8
# from every bundled digit (median 30.1). Closer than this would be a near-copy.
NEAR_COPY_DISTANCE = 9.0


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lab_spec_in_isolation(SLUG, tmp_path_factory.mktemp("labs"))


def test_manifest_validates_against_atlas_and_lists_its_solutions(spec):
    assert spec.slug == SLUG
    assert spec.subskill == "data-security"
    assert {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions} == {
        "reference": (True, TIERS),
        "cheat_match_load_digits": (False, set()),
        "cheat_compare_sets": (False, set()),
        "loss": (False, {"flips"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_differs_between_learners_and_reveals_no_truth(spec):
    one, again = lab_variant(spec, 1), lab_variant(spec, 1)
    assert one == again
    assert set(one) == {"dataset", "shuffle_seed"}
    variants = [lab_variant(spec, seed) for seed in range(40)]
    assert len({v["shuffle_seed"] for v in variants}) == 40
    assert len({v["dataset"] for v in variants}) > 10


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
    params = {"variant": variant, "grader_seed": 11}
    outputs = {
        s.name: run_solution(
            spec, s.file.read_text(), variant=variant, public_dir=built.public, workdir=root / s.name
        )
        for s in spec.solutions
    }
    jobs = {name: (path, params) for name, path in outputs.items()}
    jobs.update(_broken_cases(outputs["reference"], root, params))
    other = lab_variant(spec, SEED + 1)
    assert other["shuffle_seed"] != variant["shuffle_seed"]
    jobs["reference_graded_for_another_learner"] = (
        outputs["reference"],
        {"variant": other, "grader_seed": 11},
    )
    names = list(jobs)
    reports = grade_many(
        grader_dir=built.grader,
        public_dir=built.public,
        hidden_dir=built.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


BROKEN = {
    "over_budget": "flags 161 images; the budget is 160",
    "duplicates": "flags some image more than once",
    "out_of_range": "has indices outside 0..1256",
    "float_indices": "has dtype float64; expected int64",
    "two_dimensional": "expected a 1-D array of indices",
    "pickled": "holds pickled Python objects, which are refused",
    "not_npy": "is not a valid .npy file",
    "symlink": "is a symbolic link; hand in a regular file.",
}


def _broken_cases(reference: Path, root: Path, params: dict) -> dict:
    for case in BROKEN:
        (root / case).mkdir()
    run_python(
        textwrap.dedent(
            f"""
            import numpy as np
            from pathlib import Path
            root = Path({str(root)!r})
            flags = np.load({str(reference / "flagged.npy")!r})
            def save(case, array, **kw):
                np.save(root / case / "flagged.npy", array, **kw)
            save("over_budget", np.arange(161, dtype=np.int64))
            save("duplicates", np.concatenate([flags[:10], flags[:1]]))
            save("out_of_range", np.array([0, 1257], dtype=np.int64))
            save("float_indices", flags.astype(np.float64))
            save("two_dimensional", flags.reshape(2, -1))
            obj = np.empty(2, dtype=object); obj[:] = [1, "x"]
            save("pickled", obj, allow_pickle=True)
            (root / "not_npy" / "flagged.npy").write_bytes(b"1,2,3")
            """
        ),
        cwd=root,
    )
    (root / "symlink" / "flagged.npy").symlink_to(reference / "flagged.npy")
    return {case: (root / case, params) for case in BROKEN}


def test_reference_finds_everything(graded):
    report = graded["reference"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["flip_recall"] >= 0.95
    assert report["metrics"]["backdoor_recall"] >= 0.95


def test_loss_ranking_finds_flips_but_misses_the_backdoor(graded):
    report = graded["loss"]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) == {"flips"}
    assert report["metrics"]["backdoor_recall"] < 0.3
    assert "look at the data itself" in check(report, "backdoor")["feedback"]


@pytest.mark.parametrize("name", ["starter", "noop"])
def test_starter_and_noop_score_nothing(graded, name):
    report = graded[name]
    assert report["passed"] is False
    assert report["score"] == 0


def test_flags_for_another_learners_order_are_worthless(graded):
    report = graded["reference_graded_for_another_learner"]
    assert report["passed"] is False
    assert report["metrics"]["flip_recall"] < 0.4
    assert report["metrics"]["backdoor_recall"] < 0.4


@pytest.mark.parametrize(("case", "feedback"), list(BROKEN.items()))
def test_broken_artifact_fails_its_file_check_without_crashing(graded, case, feedback):
    report = graded[case]
    assert report["score"] == 0
    assert check(report, "flags-file")["passed"] is False
    assert feedback in check(report, "flags-file")["feedback"]


def test_feedback_reports_recall_only_never_which_images(graded):
    for name in ("reference", "loss", "starter", "reference_graded_for_another_learner"):
        for item in graded[name]["checks"]:
            assert "[" not in item["feedback"]
            assert "row" not in item["feedback"]


def test_no_public_image_is_a_copy_or_near_copy_of_a_bundled_digit(built, tmp_path):
    """The sandbox ships scikit-learn: no image may be matched back to its load_digits original."""
    out = run_python(
        textwrap.dedent(
            f"""
            import json
            import numpy as np
            from sklearn.datasets import load_digits
            from sklearn.neighbors import NearestNeighbors
            bundled = load_digits().images.reshape(-1, 64)
            images = np.load({str(built.public / "x_sets.npy")!r}).reshape(-1, 64).astype(float)
            index = NearestNeighbors(n_neighbors=2).fit(bundled)
            to_bundled = index.kneighbors(images, n_neighbors=1)[0][:, 0]
            between = index.kneighbors(bundled)[0][:, 1]  # [:, 0] is the digit itself
            print(json.dumps({{
                "closest": float(to_bundled.min()),
                "median": float(np.median(to_bundled)),
                "between_q01": float(np.quantile(between, 0.01)),
            }}))
            """
        ),
        cwd=tmp_path,
    )
    distances = json.loads(out.strip().splitlines()[-1])
    assert distances["closest"] > NEAR_COPY_DISTANCE
    assert distances["between_q01"] >= NEAR_COPY_DISTANCE  # d is no looser than the digits' own spacing
    assert distances["median"] > 2 * distances["between_q01"]


def test_the_sets_cannot_be_lined_up_row_by_row(built, tmp_path):
    """Every set has its own row order: a row's majority label across the sets is not its label."""
    out = run_python(
        textwrap.dedent(
            f"""
            import json
            import numpy as np
            labels = np.load({str(built.public / "y_sets.npy")!r})
            clean = np.load({str(built.hidden / "y_clean.npy")!r})
            majority = np.array([np.bincount(column, minlength=10).argmax() for column in labels.T])
            print(json.dumps(float((majority == clean[0]).mean())))
            """
        ),
        cwd=tmp_path,
    )
    assert json.loads(out.strip().splitlines()[-1]) < 0.3  # about 0.1 by chance; 1.0 if rows lined up


def test_matching_against_the_bundled_digits_finds_no_backdoor(graded):
    report = graded["cheat_match_load_digits"]
    assert report["passed"] is False
    assert not passed_tiers(report, TIERS) & {"backdoor", "full-backdoor"}
    assert report["metrics"]["backdoor_recall"] < 0.3


def test_lining_up_the_other_sets_finds_nothing(graded):
    report = graded["cheat_compare_sets"]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) == set()
    assert report["metrics"]["flip_recall"] < 0.3
