"""The backdoor-attack lab: manifest, notebook, variant and grader (runtime python).

Solutions and graders run as plain runtime subprocesses (trusted code: ours);
`manage.py check_labs backdoor-attack` runs the same solutions through the real sandbox.
"""

import shutil
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

SLUG = "backdoor-attack"
TIERS = {"foothold", "backdoor", "stealthy"}
SEED = 3


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lab_spec_in_isolation(SLUG, tmp_path_factory.mktemp("labs"))


def test_manifest_validates_against_atlas_and_lists_its_solutions(spec):
    assert spec.slug == SLUG
    assert spec.subskill == "data-security"
    assert {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions} == {
        "reference": (True, TIERS),
        "faint": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_in_bounds(spec):
    assert lab_variant(spec, 1) == lab_variant(spec, 1)
    variants = [lab_variant(spec, seed) for seed in range(60)]
    assert {v["target_class"] for v in variants} == set(range(10))
    assert len({tuple(v["trigger_region"]) for v in variants}) > 6
    for v in variants:
        row, col, height, width = v["trigger_region"]
        assert (height, width) == (3, 3)
        assert 0 <= row <= 5
        assert 0 <= col <= 5


def _other_variants(spec, variant):
    """A learner with another region, and one with the same region but another target."""
    others = [lab_variant(spec, seed) for seed in range(100)]
    moved = next(v for v in others if v["trigger_region"] != variant["trigger_region"])
    retargeted = {**variant, "target_class": (variant["target_class"] + 3) % 10}
    return moved, retargeted


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets_dir = tmp_path_factory.mktemp("lab-assets")
    build_lab_assets(spec, assets_dir=assets_dir)
    built = lab_asset_dirs(SLUG, assets_dir)
    root = tmp_path_factory.mktemp("graded")
    variant = lab_variant(spec, SEED)
    params = {"variant": variant, "grader_seed": 5}
    outputs = {
        s.name: run_solution(
            spec, s.file.read_text(), variant=variant, public_dir=built.public, workdir=root / s.name
        )
        for s in spec.solutions
    }
    jobs = {name: (path, params) for name, path in outputs.items()}
    jobs.update(_broken_cases(outputs["reference"], root, params, variant))
    moved, retargeted = _other_variants(spec, variant)
    jobs["reference_for_another_region"] = (outputs["reference"], {"variant": moved, "grader_seed": 5})
    jobs["reference_for_another_target"] = (outputs["reference"], {"variant": retargeted, "grader_seed": 5})
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
    "over_budget": ("indices-file", "lists 51 indices; the budget is 50"),
    "duplicates": ("indices-file", "lists some index more than once"),
    "out_of_range": ("indices-file", "has indices outside 0..1256"),
    "float_indices": ("indices-file", "has dtype float64; expected int64"),
    "pickled_indices": ("indices-file", "holds pickled Python objects, which are refused"),
    "symlink_indices": ("indices-file", "is a symbolic link; hand in a regular file."),
    "too_many_pixels": ("trigger-file", "the mask has 6 pixels; at most 4 are allowed"),
    "outside_region": ("trigger-file", "the mask uses pixels outside your allowed region"),
    "soft_mask": ("trigger-file", "must hold only 0 and 1"),
    "empty_mask": ("trigger-file", "the mask is empty"),
    "trigger_out_of_range": ("trigger-file", "values outside [0, 1]"),
    "trigger_wrong_shape": ("trigger-file", "has shape (8, 8); expected (2, 8, 8)"),
    "trigger_nan": ("trigger-file", "contains 1 NaN or infinite values"),
}


def _broken_cases(reference: Path, root: Path, params: dict, variant: dict) -> dict:
    for case in BROKEN:
        shutil.copytree(reference, root / case)
    row, col, _height, _width = variant["trigger_region"]
    outside = (row + 4) % 8 if row < 4 else row - 4
    run_python(
        textwrap.dedent(
            f"""
            import numpy as np
            from pathlib import Path
            root = Path({str(root)!r})
            idx = np.load({str(reference / "poison_indices.npy")!r})
            trig = np.load({str(reference / "trigger.npy")!r})
            def idx_save(case, array, **kw):
                np.save(root / case / "poison_indices.npy", array, **kw)
            def trig_save(case, array):
                np.save(root / case / "trigger.npy", array)
            idx_save("over_budget", np.arange(51, dtype=np.int64))
            idx_save("duplicates", np.concatenate([idx[:10], idx[:1]]))
            idx_save("out_of_range", np.array([3, 1257], dtype=np.int64))
            idx_save("float_indices", idx.astype(np.float64))
            obj = np.empty(2, dtype=object); obj[:] = [1, "x"]
            idx_save("pickled_indices", obj, allow_pickle=True)
            t = np.zeros((2, 8, 8), np.float32); t[:, {row}:{row} + 3, {col}:{col} + 2] = 1.0
            trig_save("too_many_pixels", t)
            t = np.zeros((2, 8, 8), np.float32); t[:, {outside}, {col}] = 1.0
            trig_save("outside_region", t)
            t = trig.copy(); t[0][t[0] == 1] = 0.5; trig_save("soft_mask", t)
            trig_save("empty_mask", np.zeros((2, 8, 8), np.float32))
            t = trig.copy(); t[1] *= 2.0; trig_save("trigger_out_of_range", t)
            trig_save("trigger_wrong_shape", trig[0])
            t = trig.copy(); t[1, 0, 0] = np.nan; trig_save("trigger_nan", t)
            """
        ),
        cwd=root,
    )
    (root / "symlink_indices" / "poison_indices.npy").unlink()
    (root / "symlink_indices" / "poison_indices.npy").symlink_to(reference / "poison_indices.npy")
    return {case: (root / case, params) for case in BROKEN}


pytestmark = pytest.mark.slow


def test_reference_plants_a_working_stealthy_backdoor(graded):
    report = graded["reference"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["attack_success"] >= 0.93
    assert report["metrics"]["clean_accuracy"] >= 0.96


def test_faint_trigger_fails_every_tier_with_a_hint(graded):
    report = graded["faint"]
    assert report["passed"] is False
    assert report["score"] == 0
    assert report["metrics"]["attack_success"] < 0.2
    assert "stand out" in check(report, "backdoor")["feedback"]


def test_starter_and_noop_score_nothing(graded):
    assert graded["starter"]["score"] == 0
    assert "is empty" in check(graded["starter"], "indices-file")["feedback"]
    assert graded["noop"]["score"] == 0
    assert "was not handed in" in check(graded["noop"], "trigger-file")["feedback"]


def test_the_grader_uses_the_variant_in_params(graded):
    moved = graded["reference_for_another_region"]
    assert moved["score"] == 0
    assert "outside your allowed region" in check(moved, "trigger-file")["feedback"]
    # The learner never claims a target: the grader relabels to the target of the variant it is given.
    retargeted = graded["reference_for_another_target"]
    assert retargeted["metrics"]["target_class"] == float(
        (graded["reference"]["metrics"]["target_class"] + 3) % 10
    )


@pytest.mark.parametrize(("case", "expected"), list(BROKEN.items()))
def test_broken_artifact_fails_its_file_check_without_crashing(graded, case, expected):
    check_id, feedback = expected
    report = graded[case]
    assert report["score"] == 0
    assert check(report, check_id)["passed"] is False
    assert feedback in check(report, check_id)["feedback"]
    assert check(report, "backdoor")["feedback"] == "Not scored: fix the file checks above first."
