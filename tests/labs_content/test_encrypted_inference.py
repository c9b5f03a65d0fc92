"""The encrypted-inference lab: manifest, notebook, and its grader run in the real grader sandbox
on the lab's own solutions and on broken submissions.

The grader makes a fresh CKKS key pair per grading and calls the learner's functions through
_shared.callee with the public context only. No variant: the learner hands in code, which is
run on fresh encryptions of inputs the grader draws, so there is no answer to share.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_in_sandbox, passed_tiers, run_python, run_solution

SLUG = "encrypted-inference"
REPO = Path(__file__).resolve().parents[2]
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"vector", "packed"}


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
    assert (spec.subskill, spec.level) == ("privacy-preserving-ml", "advanced")
    assert spec.atlas == ("AML.M0012", "AML.T0025")
    assert spec.owasp == ("ML03",)
    assert spec.files.variant is None
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive": (False, {"vector"}),
        "decrypt_attempt": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }
    assert "1e-2" in spec.files.brief.read_text()


def test_committed_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


OVERRIDES = {
    "returns_strings": (
        "def encrypted_logits(public_context, encrypted_inputs):\n    return ['x'] * len(encrypted_inputs)\n"
    ),
    "returns_too_few": (
        "_logits = encrypted_logits\n"
        "def encrypted_logits(public_context, encrypted_inputs):\n"
        "    return _logits(public_context, encrypted_inputs)[:-1]\n"
    ),
    "returns_garbage_bytes": (
        "def encrypted_logits(public_context, encrypted_inputs):\n"
        "    return [b'\\x00garbage' * 10 for _ in encrypted_inputs]\n"
    ),
    "own_key_pair": (  # right values, but encrypted under a key the client does not hold
        "def encrypted_logits(public_context, encrypted_inputs):\n"
        "    own = make_context()\n"
        "    return [ts.ckks_vector(own, BIAS.tolist()).serialize() for _ in encrypted_inputs]\n"
    ),
    "packed_raises": (
        "def encrypted_logits_packed(public_context, encrypted_features):\n    raise RuntimeError('boom')\n"
    ),
}


@pytest.fixture(scope="module")
def workspace():
    """A private folder under MLRANGE_VAR_DIR: pytest's shared basetemp is pruned by concurrent runs."""
    from django.conf import settings

    path = Path(tempfile.mkdtemp(prefix="ei-tests-", dir=settings.VAR_DIR))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(spec, workspace):
    """Build the assets, run the starter, and grade every case in one runtime process."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets_dir = workspace / "assets"
    build_lab_assets(spec, assets_dir=assets_dir)
    dirs = lab_asset_dirs(SLUG, assets_dir)
    root = workspace / "graded"
    root.mkdir()
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    reference = sources["reference"]
    sources.update({name: f"{reference}\n\n{code}" for name, code in OVERRIDES.items()})
    sources["syntax_error"] = "def encrypted_logits(:\n"
    run_solution(spec, sources["starter"], variant={}, public_dir=dirs.public, workdir=root / "starter-run")
    assert (root / "starter-run" / "selfcheck.json").is_file()
    jobs = []
    for name, code in sources.items():
        folder = root / name
        folder.mkdir()
        (folder / "submission.py").write_text(code)
        jobs.append((folder, {"variant": {}, "grader_seed": 7}))
    reports = grade_in_sandbox(spec, dirs, jobs)
    return {"_dirs": dirs, "_root": root, **dict(zip(sources, reports, strict=True))}


pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_reference_with_tenseal_passes_both_tiers(graded):
    report = graded["reference"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert report["metrics"]["vector_max_error"] < 2e-3
    assert report["metrics"]["packed_max_error"] < 2e-3


def test_naive_without_bias_gets_the_vector_tier_only(graded):
    report = graded["naive"]
    assert passed_tiers(report, TIERS) == {"vector"}
    assert report["metrics"]["packed_max_error"] > 0.5
    assert "do not forget the bias" in check(report, "packed")["feedback"]


def test_the_public_context_cannot_decrypt(graded):
    report = graded["decrypt_attempt"]
    assert report["score"] == 0
    # TenSEAL refuses to decrypt without a secret key; what the learner's function raised on
    # held-out inputs reaches feedback as its builtin class only (labs/_schema.md).
    assert "encrypted_logits() raised ValueError" in check(report, "vector")["feedback"]


def test_starter_and_noop_score_nothing(graded):
    for name in ("starter", "noop"):
        assert graded[name]["score"] == 0, name
    assert "defines no 'encrypted_logits'" in check(graded["noop"], "vector")["feedback"]


@pytest.mark.parametrize(
    ("case", "tier", "feedback"),
    [
        ("returns_strings", "vector", "must return a list of serialized ciphertexts"),
        ("returns_too_few", "vector", "returned 7 ciphertexts; expected 8"),
        ("returns_garbage_bytes", "vector", "not a CKKS vector under the context"),
        ("own_key_pair", "vector", "differ from the plaintext logits"),
        ("packed_raises", "packed", "raised RuntimeError."),
        ("syntax_error", "packed", "failed to load"),
    ],
)
def test_broken_submission_fails_its_tier_with_feedback_not_a_crash(graded, case, tier, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert check(report, tier)["passed"] is False
    assert feedback in check(report, tier)["feedback"]


def test_a_broken_tier_leaves_the_other_scored(graded):
    assert check(graded["packed_raises"], "vector")["passed"] is True
    assert check(graded["returns_garbage_bytes"], "packed")["passed"] is True


def test_no_key_material_is_stored_in_the_assets(graded):
    dirs = graded["_dirs"]
    names = sorted(p.name for p in [*dirs.public.iterdir(), *dirs.hidden.iterdir()])
    assert not [n for n in names if "context" in n or "key" in n or n.endswith(".bin")]


def test_public_bytes_hold_no_secret_key(graded):
    out = run_python(
        "import sys, tenseal as ts\n"
        f"sys.path.insert(0, {str(graded['_dirs'].public)!r})\n"
        "from heparams import make_context, public_bytes\n"
        "print(ts.context_from(public_bytes(make_context())).has_secret_key())\n",
        cwd=graded["_root"],
    )
    assert out.strip() == "False"
