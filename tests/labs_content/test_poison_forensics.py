"""The poison-forensics lab: manifest, notebook, variant and grader (runtime python).

Solutions and graders run as plain runtime subprocesses (trusted code: ours);
`manage.py check_labs poison-forensics` runs the same solutions through the real sandbox.
"""

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


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lab_spec_in_isolation(SLUG, tmp_path_factory.mktemp("labs"))


def test_manifest_validates_against_atlas_and_lists_its_solutions(spec):
    assert spec.slug == SLUG
    assert spec.subskill == "data-security"
    assert {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions} == {
        "reference": (True, TIERS),
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
