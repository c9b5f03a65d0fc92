"""Trusted grader of the sign-verify-load lab.

1. The learner's own signed release (release.safetensors + release.sig): the Ed25519
   signature must verify over the exact file bytes with the key in the envelope, the key id
   must match that key, the file must be safetensors holding exactly the lab's model with the
   learner's release_id (from the variant in params) in its metadata.
2. The learner's verify_and_load(model, signature, trusted_keys), called through
   _shared.callee on fresh bundles built from the secret grader seed (bundles.py): genuine
   ones must load to exactly the right tensors, every other one must be rejected, and no
   payload of a disguised pickle may run: each appends its case number to a FIFO the grader
   holds open (_shared.canary.CanaryPipe), which the learner's process may write to and
   nothing else, so loading in a fork, a deleted subfolder or a daemon is still seen.
The grader never unpickles anything; it parses safetensors with the safetensors library.
Feedback never quotes what the learner's code raised beyond a builtin exception name.
"""

import base64
import binascii
import hashlib
import json
import random
from pathlib import Path

import numpy as np
from bundles import Bundle, build_bundles
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from safetensors.numpy import load as load_safetensors

from _shared.artifacts import ArtifactError, read_artifact_bytes
from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.canary import CanaryPipe
from _shared.grading import Check, grade_result

SLUG = "sign-verify-load"
TITLES = {
    "sign": "Your release is signed correctly",
    "genuine": "Every genuine bundle loads to the right tensors",
    "integrity": "Tampered, swapped and truncated files are rejected",
    "trust": "Untrusted keys and forged envelopes are rejected",
    "format": "Pickles in disguise are rejected without running",
}
HINTS = {
    "integrity": "Verify the signature over the exact bytes of the file before parsing anything.",
    "trust": (
        "Look the key up in trusted_keys by the envelope's key_id and verify with that key only; "
        "the envelope's public_key is the attacker's to choose. Accept only alg 'ed25519' and "
        "64-byte signatures; a malformed envelope is a rejection."
    ),
    "format": (
        "A valid signature says who published a file, not that it is safe: parse it as "
        "safetensors only, never fall back to torch.load or pickle."
    ),
}
MAX_RELEASE_BYTES = 1 << 20
MAX_SIGNATURE_BYTES = 4096
CALL_TIMEOUT_S = 5.0
LOAD_TIMEOUT_S = 30.0


def _release_id(params: dict) -> str:
    value = params.get("variant", {}).get("release_id")
    if not isinstance(value, str) or not value.startswith("rel-"):
        raise ValueError(f"grader misconfigured: variant.release_id is {value!r}")
    return value


def _safetensors_metadata(data: bytes) -> dict:
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    metadata = header.get("__metadata__") or {}
    return metadata if isinstance(metadata, dict) else {}


def _same_tensors(loaded: object, expected: dict[str, np.ndarray]) -> str | None:
    """None when `loaded` holds exactly the expected tensors, else what differs."""
    if not isinstance(loaded, dict):
        return f"got {type(loaded).__name__}, not a dict of arrays"
    if set(loaded) != set(expected):
        return f"tensor names differ ({len(loaded)} returned, {len(expected)} expected)"
    for name, array in expected.items():
        got = loaded[name]
        if not isinstance(got, np.ndarray) or got.dtype != array.dtype or got.shape != array.shape:
            return f"{name!r} has the wrong dtype or shape"
        if not np.array_equal(got, array):
            return f"{name!r} has the wrong values"
    return None


def _check_release(  # noqa: PLR0911 -- one early return per thing to fix
    artifacts_dir: Path, expected: dict[str, np.ndarray], release_id: str
) -> str | None:
    """None when the learner's release is right, else what to fix."""
    model = read_artifact_bytes(artifacts_dir / "release.safetensors", max_bytes=MAX_RELEASE_BYTES)
    raw_envelope = read_artifact_bytes(artifacts_dir / "release.sig", max_bytes=MAX_SIGNATURE_BYTES)
    try:
        envelope = json.loads(raw_envelope)
        if not isinstance(envelope, dict):
            raise ValueError("not an object")
    except ValueError:
        return "release.sig is not a JSON object (see the envelope format in the brief)."
    if envelope.get("format") != "mlrange-signature/1" or envelope.get("alg") != "ed25519":
        return 'release.sig must say "format": "mlrange-signature/1" and "alg": "ed25519".'
    try:
        public = base64.b64decode(str(envelope.get("public_key", "")), validate=True)
        signature = base64.b64decode(str(envelope.get("signature", "")), validate=True)
        key = Ed25519PublicKey.from_public_bytes(public)
    except (ValueError, binascii.Error):
        return "release.sig: public_key must be base64 of the raw 32-byte Ed25519 public key."
    if envelope.get("key_id") != hashlib.sha256(public).hexdigest()[:16]:
        return "release.sig: key_id must be the first 16 hex digits of sha256(raw public key)."
    try:
        key.verify(signature, model)
    except InvalidSignature:
        return "release.sig: the signature does not verify over the exact bytes of release.safetensors."
    try:
        tensors = load_safetensors(model)
        metadata = _safetensors_metadata(model)
    except Exception:
        return "release.safetensors is not a valid safetensors file."
    problem = _same_tensors(dict(tensors), expected)
    if problem:
        return f"release.safetensors must hold exactly the tensors of model.safetensors: {problem}."
    if metadata.get("release_id") != release_id:
        return (
            f"release.safetensors metadata must have release_id = {release_id!r} (yours: LAB['release_id'])."
        )
    return None


def _tier(tier: str, passed: bool, feedback: str) -> Check:
    return Check(tier, TITLES[tier], passed, feedback)


def grade(ctx) -> dict:
    """Grade the signed release and the verifier against the learner's variant."""
    release_id = _release_id(ctx.params)
    seed = int(ctx.params.get("grader_seed", 0))
    with CanaryPipe() as pipe:
        return _grade(ctx, release_id, random.Random(f"{SLUG}:{seed}"), pipe)  # noqa: S311 -- test data


def _grade(ctx, release_id: str, rng: random.Random, pipe: CanaryPipe) -> dict:  # noqa: PLR0912, PLR0915
    artifacts_dir = Path(ctx.artifacts_dir)
    expected = dict(load_safetensors((Path(ctx.hidden_dir) / "model.safetensors").read_bytes()))
    checks: list[Check] = []
    try:
        problem = _check_release(artifacts_dir, expected, release_id)
    except ArtifactError as exc:
        problem = str(exc)
    checks.append(
        _tier("sign", problem is None, problem or "Signature, key id, tensors and release id all check out.")
    )

    trusted_keys, bundles = build_bundles(rng, pipe.target)
    outcomes: dict[str, list[tuple[Bundle, bool, str, bool]]] = {
        tier: [] for tier in ("genuine", "integrity", "trust", "format")
    }
    lab = {"slug": SLUG, "assets": str(ctx.public_dir), **ctx.params.get("variant", {})}
    load_error = None
    source = artifacts_dir / "submission.py"
    try:
        with LearnerProcess(source, lab=lab, load_timeout=LOAD_TIMEOUT_S, canary=pipe.path) as learner:
            for bundle in bundles:
                outcomes[bundle.tier].append(_run_case(learner, bundle, trusted_keys))
                pipe.drain()
    except LearnerCodeError as exc:
        load_error = str(exc)
    pipe.settle()  # a payload started in the background gets a moment to show itself
    executed = max(len(pipe.fired(f"{n:02d}" for n in range(len(bundles)))), int(pipe.tripped))
    answered = sum(len(v) for v in outcomes.values())
    returned = sum(not raised for cases in outcomes.values() for *_rest, raised in cases)
    if load_error:
        feedback = f"{load_error}. Define verify_and_load(model, signature, trusted_keys) at the top level."
    elif not returned:
        feedback = "verify_and_load() raised on every bundle; return None to reject, the tensors to accept."
    else:
        feedback = f"Your verify_and_load() answered {returned} of {len(bundles)} bundles without raising."
    checks.append(
        Check(
            "verifier",
            "Your verify_and_load() loads and answers",
            returned > 0 and answered == len(bundles),
            feedback,
        )
    )

    genuine = outcomes["genuine"]
    genuine_ok = answered == len(bundles) and all(ok for _b, ok, _why, _r in genuine)
    wrong = [why for _b, ok, why, _r in genuine if not ok]
    loaded = sum(ok for _b, ok, _w, _r in genuine)
    feedback = f"{loaded} of {len(genuine)} genuine bundles loaded to the right tensors."
    if wrong:
        feedback += f" For example: {wrong[0]}"
    elif not genuine_ok:
        feedback += " Your verifier did not answer for every bundle."
    checks.append(_tier("genuine", genuine_ok, feedback))
    for tier in ("integrity", "trust", "format"):
        cases = outcomes[tier]
        rejected = sum(ok for _b, ok, _w, _r in cases)
        total = sum(1 for b in bundles if b.tier == tier)
        if executed:
            feedback = (
                f"{executed} payload(s) ran inside your verifier: it loaded a pickle (wherever it "
                "loaded it, whatever it deleted afterwards). Parse model files as safetensors only."
            )
            passed = False
        elif not genuine_ok:
            passed = False
            feedback = "Not scored until every genuine bundle loads (rejecting everything is not a verifier)."
        else:
            passed = rejected == total
            feedback = f"Rejected {rejected} of {total} bundles that must be rejected."
            if not passed:
                feedback += " " + HINTS[tier]
        checks.append(_tier(tier, passed, feedback))
    metrics = {
        "genuine_loaded": sum(ok for _b, ok, _w, _r in genuine),
        "bad_rejected": sum(ok for t in ("integrity", "trust", "format") for _b, ok, _w, _r in outcomes[t]),
        "bad_total": sum(1 for b in bundles if not b.genuine),
        "payloads_executed": executed,
        "release_ok": float(problem is None),
    }
    return grade_result(checks, metrics)


def _run_case(
    learner: LearnerProcess, bundle: Bundle, trusted_keys: dict[str, bytes]
) -> tuple[Bundle, bool, str, bool]:
    """(bundle, handled correctly, why not, raised). A raised exception counts as a rejection."""
    try:
        loaded = learner.call(
            "verify_and_load", bundle.model, bundle.signature, trusted_keys, timeout=CALL_TIMEOUT_S
        )
    except LearnerCodeError as exc:
        if not exc.raised:
            raise
        loaded, raised = None, True
        why = f"verify_and_load() raised on a genuine bundle: {exc}"
    else:
        why, raised = "", False
    if bundle.genuine:
        problem = why or _same_tensors(loaded, bundle.tensors or {})
        return bundle, problem is None, problem or "", raised
    return bundle, not isinstance(loaded, dict), "accepted", raised
