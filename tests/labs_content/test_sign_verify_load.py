"""The sign-verify-load lab: manifest, notebook, variant and the grader (runtime python).

Solutions run in a plain runtime subprocess (trusted code: ours); the grader calls their
verify_and_load() through _shared.callee. `manage.py check_labs sign-verify-load` runs the
same solutions through the sandbox.
"""

import shutil
import textwrap
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_python, run_solution

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "sign-verify-load"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"sign", "genuine", "integrity", "trust", "format"}
SEEDS = (1, 2, 3)
LEARNER_SEED = 4


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill) == ("sign-verify-load", "infrastructure-security")
    assert [a.name for a in spec.artifacts] == ["release.safetensors", "release.sig"]
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference_crypto": (True, TIERS),
        "naive_embedded_key": (False, {"sign", "genuine", "integrity", "format"}),
        "unsafe_fallback": (False, {"genuine"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_differs_between_learners(spec):
    from mlrange.labs.registry import lab_variant

    ids = {lab_variant(spec, seed)["release_id"] for seed in range(50)}
    assert len(ids) == 50
    assert lab_variant(spec, 9) == lab_variant(spec, 9)


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    assets = tmp_path_factory.mktemp("svl-assets")
    build_lab_assets(spec, assets_dir=assets)
    dirs = lab_asset_dirs(spec.slug, assets)
    variant = lab_variant(spec, LEARNER_SEED)
    root = tmp_path_factory.mktemp("svl-graded")
    folders = {}
    for solution in spec.solutions:
        code = solution.file.read_text()
        folder = run_solution(
            spec, code, variant=variant, public_dir=dirs.public, workdir=root / solution.name
        )
        (folder / "submission.py").write_text(code)
        folders[solution.name] = folder
    reference = folders["reference_crypto"]
    folders.update(_broken_releases(reference, root))
    raises = root / "raises"
    shutil.copytree(reference, raises)
    (raises / "submission.py").write_text(
        "def verify_and_load(model, signature, trusted_keys):\n    raise ValueError('no')\n"
    )
    folders["raises"] = raises
    params = {"variant": variant, "grader_seed": 1}
    jobs = {name: (folder, params) for name, folder in folders.items()}
    for seed in SEEDS:
        jobs[f"reference@{seed}"] = (reference, {"variant": variant, "grader_seed": seed})
        jobs[f"naive@{seed}"] = (folders["naive_embedded_key"], {"variant": variant, "grader_seed": seed})
    jobs["other_learner"] = (reference, {"variant": lab_variant(spec, LEARNER_SEED + 1), "grader_seed": 1})
    names = list(jobs)
    reports = grade_many(
        grader_dir=dirs.grader,
        public_dir=dirs.public,
        hidden_dir=dirs.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


def _broken_releases(reference: Path, root: Path) -> dict[str, Path]:
    cases = ["sig_not_json", "symlink", "pickle_release", "tampered_release", "wrong_tensors", "oversized"]
    for case in cases:
        shutil.copytree(reference, root / case)
    run_python(
        textwrap.dedent(
            f"""
            import base64, hashlib, json, pickle
            from pathlib import Path
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            from safetensors.numpy import load, save
            root = Path({str(root)!r})
            def sign(folder, data):
                key = Ed25519PrivateKey.generate()
                raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                env = {{"format": "mlrange-signature/1", "alg": "ed25519", "key_id": hashlib.sha256(raw).hexdigest()[:16],
                       "public_key": base64.b64encode(raw).decode(), "signature": base64.b64encode(key.sign(data)).decode()}}
                (root / folder / "release.safetensors").write_bytes(data)
                (root / folder / "release.sig").write_text(json.dumps(env))
            (root / "sig_not_json" / "release.sig").write_text("not json")
            sign("pickle_release", pickle.dumps({{"w": [1.0, 2.0]}}))
            data = (root / "tampered_release" / "release.safetensors").read_bytes()
            (root / "tampered_release" / "release.safetensors").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
            good = (root / "wrong_tensors" / "release.safetensors").read_bytes()
            tensors = load(good)
            name = sorted(tensors)[0]
            tensors[name] = tensors[name] + 1
            meta = json.loads(good[8 : 8 + int.from_bytes(good[:8], "little")])["__metadata__"]
            sign("wrong_tensors", save(tensors, metadata=meta))
            (root / "oversized" / "release.safetensors").write_bytes(b"0" * ((1 << 20) + 1))
            """
        ),
        cwd=root,
    )
    target = root / "symlink" / "release.safetensors"
    target.unlink()
    target.symlink_to(reference / "release.safetensors")
    return {case: root / case for case in cases}


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_passes_every_tier(graded, seed):
    report = graded[f"reference@{seed}"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["bad_rejected"] == report["metrics"]["bad_total"] == 13


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_embedded_key_verifier_fails_the_trust_tier(graded, seed):
    report = graded[f"naive@{seed}"]
    assert report["passed"] is False
    assert report["score"] == 85
    assert passed_tiers(report, TIERS) == {"sign", "genuine", "integrity", "format"}
    feedback = check(report, "trust")["feedback"]
    assert "Rejected 3 of 5" in feedback
    assert "trusted_keys" in feedback


@pytest.mark.slow
def test_torch_load_fallback_runs_the_payload_and_loses_three_tiers(graded):
    report = graded["unsafe_fallback"]
    assert passed_tiers(report, TIERS) == {"genuine"}
    assert report["metrics"]["payloads_executed"] >= 1
    assert "payload(s) ran inside your verifier" in check(report, "format")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["starter", "noop", "raises"])
def test_starter_noop_and_always_raising_verifier_score_nothing(graded, name):
    report = graded[name]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) <= {"sign"}
    assert check(report, "genuine")["passed"] is False
    assert "Not scored until every genuine bundle loads" in check(report, "integrity")["feedback"]


@pytest.mark.slow
def test_release_signed_for_another_learner_fails_the_sign_tier(graded):
    report = graded["other_learner"]
    assert passed_tiers(report, TIERS) == TIERS - {"sign"}
    assert "release_id" in check(report, "sign")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("sig_not_json", "release.sig is not a JSON object"),
        ("symlink", "release.safetensors is a symbolic link"),
        ("pickle_release", "release.safetensors is not a valid safetensors file"),
        ("tampered_release", "does not verify over the exact bytes"),
        ("wrong_tensors", "must hold exactly the tensors of model.safetensors"),
        ("oversized", "the limit is 1048576 bytes"),
    ],
)
def test_broken_release_fails_the_sign_tier_without_crashing(graded, case, feedback):
    sign = check(graded[case], "sign")
    assert sign["passed"] is False
    assert feedback in sign["feedback"]
    assert check(graded[case], "genuine")["passed"] is True  # the verifier is still graded
