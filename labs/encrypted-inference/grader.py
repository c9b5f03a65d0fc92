"""Trusted grader of the encrypted-inference lab.

For every grading the grader makes a fresh CKKS key pair (heparams.make_context) and keeps
the secret key in its own memory; nothing secret is ever written to a file. It encrypts
held-out digits it picks with its own randomness (grader_seed mixed with fresh OS entropy),
hands the learner's functions ONLY the public context (serialized without the secret key)
and the ciphertexts, through _shared.callee.LearnerProcess in a child process, then decrypts
what comes back and compares it with the plaintext logits of its own copy of the model.
"""

import ctypes
import os
from pathlib import Path

import numpy as np
import tenseal as ts
from heparams import SLOTS, make_context, public_bytes

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result

SLUG = "encrypted-inference"
NUM_CLASSES = 10
NUM_FEATURES = 64
VECTOR_INPUTS = 8
PACKED_INPUTS = 256
TOLERANCE = 1e-2
MAX_CIPHERTEXT_BYTES = 2 * 1024 * 1024
CALL_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 20.0
PR_SET_DUMPABLE = 4


class SubmissionError(Exception):
    """What the learner's function returned cannot be used; the message says what to fix."""


def _protect_memory() -> None:
    """Make this process non-dumpable, so that the learner's code, running in a child with the
    same uid, cannot read the secret key from /proc/<grader pid>/mem."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - Linux always has prctl
        pass


def _grader_rng(params: dict) -> np.random.Generator:
    seed = int(params.get("grader_seed", 0))
    return np.random.default_rng([seed, int.from_bytes(os.urandom(8), "little")])


def _sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith(".") else text + "."


def _ciphertexts(value, *, name: str, count: int) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, bytes) for v in value):
        raise SubmissionError(
            f"{name} must return a list of serialized ciphertexts (bytes: vector.serialize())."
        )
    if len(value) != count:
        raise SubmissionError(f"{name} returned {len(value)} ciphertexts; expected {count}.")
    for data in value:
        if len(data) > MAX_CIPHERTEXT_BYTES:
            raise SubmissionError(
                f"{name} returned a ciphertext of {len(data)} bytes; the limit is {MAX_CIPHERTEXT_BYTES}."
            )
    return value


def _decrypt(context: ts.Context, data: bytes, *, name: str, size: int) -> np.ndarray:
    try:
        values = ts.ckks_vector_from(context, data).decrypt()
    except Exception as exc:
        raise SubmissionError(
            f"{name} returned bytes that are not a CKKS vector under the context it was given "
            f"({type(exc).__name__}); return result.serialize()."
        ) from None
    if len(values) < size:
        raise SubmissionError(
            f"{name} returned an encrypted vector of {len(values)} values; expected {size}."
        )
    values = np.asarray(values[:size], dtype=np.float64)
    if not np.isfinite(values).all():
        raise SubmissionError(f"{name} returned a ciphertext that decrypts to NaN or infinite values.")
    return values


def _verdict(tier: str, title: str, error: float, *, what: str) -> Check:
    passed = error <= TOLERANCE
    feedback = (
        f"{what}: the decrypted logits differ from the plaintext logits by at most {error:.2e} "
        f"(tolerance {TOLERANCE:g})."
    )
    if not passed:
        feedback += (
            " Compute x @ weights + bias on the ciphertext (weights.npy is (64, 10): input features "
            "by classes) and do not forget the bias."
        )
    return Check(tier, title, passed, feedback)


def _failed(tier: str, title: str, feedback: str) -> Check:
    return Check(tier, title, False, feedback)


def _vector_tier(learner, context, public, x, logits) -> tuple[Check, float | None]:
    title = f"Encrypted logits of {VECTOR_INPUTS} digits, one ciphertext each"
    encrypted = [ts.ckks_vector(context, row.tolist()).serialize() for row in x]
    try:
        returned = learner.call("encrypted_logits", public, encrypted, timeout=CALL_TIMEOUT_S)
        results = _ciphertexts(returned, name="encrypted_logits", count=len(x))
        decrypted = np.stack(
            [_decrypt(context, data, name="encrypted_logits", size=NUM_CLASSES) for data in results]
        )
    except (LearnerCodeError, SubmissionError) as exc:
        return _failed("vector", title, f"{_sentence(exc)} Not scored."), None
    error = float(np.abs(decrypted - logits).max())
    return _verdict("vector", title, error, what=f"{VECTOR_INPUTS} inputs"), error


def _packed_tier(learner, context, public, x, logits) -> tuple[Check, float | None]:
    title = f"Encrypted logits of {PACKED_INPUTS} digits packed feature by feature"
    columns = [ts.ckks_vector(context, x[:, j].tolist()).serialize() for j in range(NUM_FEATURES)]
    try:
        returned = learner.call("encrypted_logits_packed", public, columns, timeout=CALL_TIMEOUT_S)
        results = _ciphertexts(returned, name="encrypted_logits_packed", count=NUM_CLASSES)
        decrypted = np.stack(
            [_decrypt(context, data, name="encrypted_logits_packed", size=len(x)) for data in results],
            axis=1,
        )
    except (LearnerCodeError, SubmissionError) as exc:
        return _failed("packed", title, f"{_sentence(exc)} Not scored."), None
    error = float(np.abs(decrypted - logits).max())
    return _verdict(
        "packed", title, error, what=f"{PACKED_INPUTS} inputs in {NUM_FEATURES} ciphertexts"
    ), error


def grade(ctx) -> dict:
    """Grade encrypted_logits and encrypted_logits_packed on fresh encryptions of held-out digits."""
    _protect_memory()
    hidden = Path(ctx.hidden_dir)
    weights = np.load(hidden / "weights.npy", allow_pickle=False)
    bias = np.load(hidden / "bias.npy", allow_pickle=False)
    x_test = np.load(hidden / "x_test.npy", allow_pickle=False)
    rng = _grader_rng(ctx.params)
    picked = rng.choice(len(x_test), size=VECTOR_INPUTS + PACKED_INPUTS, replace=False)
    x_vector, x_packed = x_test[picked[:VECTOR_INPUTS]], x_test[picked[VECTOR_INPUTS:]]
    assert PACKED_INPUTS <= SLOTS

    context = make_context()
    public = public_bytes(context)
    if ts.context_from(public).has_secret_key():  # never hand the learner a secret key
        raise RuntimeError("grader misconfigured: the public context holds the secret key")

    lab = {"slug": SLUG, "assets": str(ctx.public_dir), **ctx.params.get("variant", {})}
    source = Path(ctx.artifacts_dir) / "submission.py"
    metrics: dict[str, float] = {"public_context_bytes": float(len(public))}
    tiers = [
        ("vector", "Encrypted logits, one ciphertext each", _vector_tier, x_vector),
        ("packed", "Encrypted logits packed feature by feature", _packed_tier, x_packed),
    ]
    checks: list[Check] = []
    load_error: str | None = None
    for tier, title, run_tier, x in tiers:
        if load_error is not None:
            checks.append(_failed(tier, title, load_error))
            continue
        try:  # a fresh child per tier: a call that hangs or crashes costs only its own tier
            learner = LearnerProcess(source, lab=lab, load_timeout=LOAD_TIMEOUT_S)
        except LearnerCodeError as exc:
            load_error = f"{_sentence(exc)} Not scored."
            checks.append(_failed(tier, title, load_error))
            continue
        with learner:
            check, error = run_tier(learner, context, public, x, x @ weights + bias)
        checks.append(check)
        if error is not None:
            metrics[f"{tier}_max_error"] = error
    return grade_result(checks, metrics)
