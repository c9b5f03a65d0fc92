"""The laplace-mechanism lab: manifest, notebook, and its grader (which calls the learner's
functions through _shared.callee) on the lab's solutions, on the seven classic bugs of a
Laplace mechanism and on misbehaving code, run with the runtime python.

No variant: the learner hands in code that the grader calls with inputs and parameters drawn
from its secret grader_seed, so there is no answer to share.
"""

from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers

SLUG = "laplace-mechanism"
REPO = Path(__file__).resolve().parents[2]
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"mechanism", "fresh", "clipped-mean"}
SOLUTIONS = REPO / "labs" / SLUG / "solutions"


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
    assert (spec.subskill, spec.level) == ("privacy-preserving-ml", "beginner")
    assert spec.atlas == ("AML.T0024.000",)
    assert spec.owasp == ("ML04", "ML03")
    assert spec.artifacts == ()
    assert spec.files.variant is None
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "no_clipping": (False, {"mechanism", "fresh"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_committed_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


REFERENCE = (SOLUTIONS / "reference.py").read_text()


def _bug(old: str, new: str) -> str:
    assert old in REFERENCE
    return REFERENCE.replace(old, new)


SCALE = "sensitivity / epsilon, size"
# each bug: (code, tiers it still earns)
BUGS = {
    "scale_plus_10pct": (_bug(SCALE, "1.1 * sensitivity / epsilon, size"), None),
    "scale_minus_10pct": (_bug(SCALE, "0.9 * sensitivity / epsilon, size"), None),
    "half_noise": (_bug(SCALE, "0.5 * sensitivity / epsilon, size"), {"fresh"}),
    "gaussian_same_mean_abs": (
        _bug(
            "_rng.laplace(0.0, sensitivity / epsilon, size=answer.shape)",
            "_rng.normal(0.0, (sensitivity / epsilon) * (np.pi / 2) ** 0.5, size=answer.shape)",
        ),
        {"fresh", "clipped-mean"},
    ),
    "no_clipping": (
        _bug(
            "values = np.clip(np.asarray(values, dtype=np.float64), lower, upper)",
            "values = np.asarray(values, dtype=np.float64)",
        ),
        {"mechanism", "fresh"},
    ),
    "seed_every_call": (
        _bug(
            "    answer = np.asarray(true_answer, dtype=np.float64)\n",
            "    answer = np.asarray(true_answer, dtype=np.float64)\n    _rng = np.random.default_rng(0)\n",
        ),
        {"mechanism"},
    ),
    "fixed_module_seed": (
        _bug("np.random.default_rng()  #", "np.random.default_rng(42)  #"),
        {"mechanism", "clipped-mean"},
    ),
    "no_noise": (
        _bug(
            "return answer + _rng.laplace(0.0, sensitivity / epsilon, size=answer.shape)",
            "return answer.copy()",
        ),
        set(),
    ),
    "one_noise_for_all_elements": (
        _bug(
            "_rng.laplace(0.0, sensitivity / epsilon, size=answer.shape)",
            "_rng.laplace(0.0, sensitivity / epsilon)",
        ),
        {"clipped-mean"},
    ),
    "mean_sensitivity_halved": (
        _bug(
            "sensitivity = (upper - lower) / len(values)", "sensitivity = (upper - lower) / len(values) / 2"
        ),
        {"mechanism", "fresh"},
    ),
}
MISBEHAVING = {
    "syntax_error": "def laplace_mechanism(:\n",
    "raises_on_import": "raise RuntimeError('boom')\n",
    "wrong_shape": REFERENCE + "\n_lm = laplace_mechanism\n"
    "def laplace_mechanism(t, s, e):\n    return _lm(t, s, e).ravel()[:1]\n",
    "returns_strings": REFERENCE + "\ndef laplace_mechanism(t, s, e):\n    return 'noisy'\n"
    "def private_mean(v, lo, hi, e):\n    return 'mean'\n",
    "returns_nan": REFERENCE + "\ndef laplace_mechanism(t, s, e):\n    return t * float('nan')\n"
    "def private_mean(v, lo, hi, e):\n    return float('nan')\n",
    "exits_the_process": "import os\ndef laplace_mechanism(t, s, e):\n    os._exit(3)\n"
    "def private_mean(v, lo, hi, e):\n    os._exit(3)\n",
}


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    build_lab_assets(spec)
    dirs = lab_asset_dirs(SLUG)
    root = tmp_path_factory.mktemp("laplace-graded")
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    sources.update({name: code for name, (code, _) in BUGS.items()})
    sources.update(MISBEHAVING)
    jobs = {}
    for name, code in sources.items():
        (root / name).mkdir()
        (root / name / "submission.py").write_text(code)
        jobs[name] = (root / name, {"variant": {}, "grader_seed": 1})
    for seed in range(2, 6):
        jobs[f"reference-seed-{seed}"] = (root / "reference", {"variant": {}, "grader_seed": seed})
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
def test_reference_passes_every_tier_over_several_grader_seeds(graded):
    for name in ["reference", *(f"reference-seed-{s}" for s in range(2, 6))]:
        report = graded[name]
        assert report["passed"] is True, (name, report["checks"])
        assert report["score"] == 100
        assert abs(report["metrics"]["scale_error"]) < 0.02


@pytest.mark.slow
def test_naive_starter_and_noop_fail(graded):
    assert passed_tiers(graded["no_clipping"], TIERS) == {"mechanism", "fresh"}
    assert "clip" in check(graded["no_clipping"], "clipped-mean")["feedback"]
    assert passed_tiers(graded["starter"], TIERS) == set()
    assert "adds no noise" in check(graded["starter"], "mechanism")["feedback"]
    assert passed_tiers(graded["noop"], TIERS) == set()
    assert "defines no 'laplace_mechanism'" in check(graded["noop"], "mechanism")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(BUGS))
def test_every_classic_bug_fails(graded, bug):
    report = graded[bug]
    assert report["passed"] is False
    expected = BUGS[bug][1]
    if expected is not None:  # a 10% scale error may or may not also show in private_mean
        assert passed_tiers(report, TIERS) == expected, report["checks"]
    else:
        assert "mechanism" not in passed_tiers(report, TIERS)
        assert "off the Laplace scale" in check(report, "mechanism")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MISBEHAVING))
def test_misbehaving_code_fails_with_feedback_and_does_not_crash_the_grader(graded, case):
    report = graded[case]
    assert report["passed"] is False
    assert report["score"] == 0
    if case in ("syntax_error", "raises_on_import"):
        assert check(report, "code")["passed"] is False
        assert "failed to load" in check(report, "code")["feedback"]
    else:
        assert all(check(report, t)["feedback"] for t in TIERS)
