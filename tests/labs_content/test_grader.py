"""The adversarial-examples grader, run with the runtime python on real solution outputs.

Solutions run in a plain runtime subprocess (trusted code: ours); `manage.py check_labs`
runs the same solutions through the real sandbox.
"""

import shutil
import textwrap

import pytest

from tests.labs_content.harness import check, grade_many, passed_tiers, run_python, run_solution

pytestmark = pytest.mark.slow

SEED = 5  # learner seed of these tests: target offset 6
TIERS = {"untargeted", "targeted"}


@pytest.fixture(scope="module")
def graded(built_assets, adversarial_lab, tmp_path_factory):
    """Run four solutions and craft broken artifacts, then grade everything in one process."""
    from mlrange.labs.registry import lab_variant

    _assets_dir, _build, dirs = built_assets
    spec = adversarial_lab
    variant = lab_variant(spec, SEED)
    root = tmp_path_factory.mktemp("graded")
    solutions = {s.name: s.file.read_text() for s in spec.solutions if s.name != "reference_art"}
    outputs = {
        name: run_solution(spec, code, variant=variant, public_dir=dirs.public, workdir=root / name)
        for name, code in solutions.items()
    }
    broken = _craft_broken_artifacts(outputs["reference_pgd"], dirs.public, root)
    other = lab_variant(spec, SEED + 1)
    jobs = {name: (path, {"variant": variant, "grader_seed": 1}) for name, path in outputs.items()}
    jobs.update({name: (path, {"variant": variant, "grader_seed": 1}) for name, path in broken.items()})
    jobs["pgd_graded_for_another_offset"] = (
        outputs["reference_pgd"],
        {"variant": other, "grader_seed": 1},
    )
    for offset in range(1, 10):
        for name in ("reference_pgd", "fgsm"):
            workdir = root / f"{name}-offset-{offset}"
            code = solutions[name]
            run_variant = {"target_offset": offset}
            if name == "reference_pgd" and offset != variant["target_offset"]:
                continue  # PGD over all offsets: see test_pgd_and_fgsm_over_every_offset
            run_solution(spec, code, variant=run_variant, public_dir=dirs.public, workdir=workdir)
            jobs[f"{name}-offset-{offset}"] = (
                workdir,
                {"variant": run_variant, "grader_seed": offset},
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


def _craft_broken_artifacts(pgd_dir, public_dir, root):
    """Copies of the PGD outputs, each broken in one way, made with the runtime numpy."""
    cases = ["wrong_shape", "nan", "out_of_range", "over_epsilon", "float64", "pickled", "symlink"]
    for case in cases:
        (root / case).mkdir()
        shutil.copy(pgd_dir / "adv_targeted.npy", root / case / "adv_targeted.npy")
    run_python(
        textwrap.dedent(
            f"""
            import numpy as np
            from pathlib import Path
            root = Path({str(root)!r})
            adv = np.load({str(pgd_dir / "adv_untargeted.npy")!r})
            x = np.load({str(public_dir / "x_eval.npy")!r})
            def save(case, array, **kw):
                np.save(root / case / "adv_untargeted.npy", array, **kw)
            save("wrong_shape", adv.reshape(len(adv), 64))
            bad = adv.copy(); bad[3, 0, 2, 2] = np.nan; save("nan", bad)
            bad = adv.copy(); bad[0, 0, 0, 0] = 1.5; save("out_of_range", bad)
            save("over_epsilon", np.clip(x + 0.2, 0, 1).astype(np.float32))
            save("float64", adv.astype(np.float64))
            obj = np.empty(len(adv), dtype=object); obj[:] = [a for a in adv]
            save("pickled", obj, allow_pickle=True)
            """
        ),
        cwd=root,
    )
    (root / "symlink" / "adv_untargeted.npy").symlink_to(pgd_dir / "adv_untargeted.npy")
    return {case: root / case for case in cases}


def test_reference_pgd_passes_both_tiers(graded):
    report = graded["reference_pgd"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS


def test_fgsm_gets_the_untargeted_tier_only(graded):
    report = graded["fgsm"]
    assert report["passed"] is False
    assert report["score"] == 40
    assert passed_tiers(report, TIERS) == {"untargeted"}
    assert "iterative attack" in check(report, "targeted")["feedback"]


def test_starter_runs_but_scores_nothing(graded):
    report = graded["starter"]
    assert report["passed"] is False
    assert report["score"] == 0
    assert check(report, "untargeted-file")["passed"] is True
    assert report["metrics"]["untargeted_success_rate"] == 0.0


def test_noop_fails_with_missing_file_feedback(graded):
    report = graded["noop"]
    assert report["passed"] is False
    assert report["score"] == 0
    assert check(report, "untargeted-file")["feedback"] == (
        "adv_untargeted.npy was not handed in: write it into the working folder."
    )


@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("wrong_shape", "adv_untargeted.npy has shape (300, 64); expected (300, 1, 8, 8)."),
        ("nan", "adv_untargeted.npy contains 1 NaN or infinite values."),
        ("out_of_range", "values outside [0, 1]"),
        ("over_epsilon", "are farther than epsilon = 0.1 from their originals"),
        ("float64", "adv_untargeted.npy has dtype float64; expected float32"),
        ("pickled", "holds pickled Python objects, which are refused"),
        ("symlink", "adv_untargeted.npy is a symbolic link; hand in a regular file."),
    ],
)
def test_broken_artifact_fails_its_file_check_without_crashing(graded, case, feedback):
    report = graded[case]
    file_check = check(report, "untargeted-file")
    assert file_check["passed"] is False
    assert feedback in file_check["feedback"]
    assert check(report, "untargeted")["passed"] is False
    assert check(report, "targeted")["passed"] is True  # the other, valid file is still scored
    assert report["score"] == 60


def test_targeted_file_made_for_another_offset_fails(graded):
    report = graded["pgd_graded_for_another_offset"]
    assert check(report, "untargeted")["passed"] is True
    assert check(report, "targeted")["passed"] is False
    assert report["metrics"]["targeted_success_rate"] < 0.1


def test_fgsm_never_reaches_the_targeted_line_for_any_offset(graded):
    for offset in range(1, 10):
        report = graded[f"fgsm-offset-{offset}"]
        assert passed_tiers(report, TIERS) == {"untargeted"}, offset
        assert report["metrics"]["targeted_success_rate"] < 0.85, offset
        assert report["metrics"]["untargeted_success_rate"] >= 0.35, offset
