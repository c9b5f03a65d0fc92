"""Trusted grader of the federated-secure-aggregation lab.

The learner hands in three functions (local_update, mask_update, unmask_aggregate); the
grader calls them only through _shared.callee.LearnerProcess, in a child process. It plays
the federation itself: it runs FedAvg over the learner's own non-IID split (from the variant
in params) with its own held-out test set, and it drives secure aggregation with update
vectors, pair keys, rounds and a dropped client drawn from its own randomness (grader_seed
mixed with fresh OS entropy), so nothing can be precomputed.
"""

import os
import time
from pathlib import Path

import numpy as np
import torch
from fedlab import NUM_PARAMETERS, accuracy, client_split, initial_weights
from scipy import stats

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result
from _shared.variants import variant_int

SLUG = "federated-secure-aggregation"
ROUNDS = 10
ACCURACY_LINE = 0.60
FEDAVG_BUDGET_S = 60.0
CALL_TIMEOUT_S = 15.0
LOAD_TIMEOUT_S = 40.0
TOTAL_BUDGET_S = 90.0
SUM_TOLERANCE = 1e-3
MAX_ABS_CORRELATION = 0.10
MIN_UNIFORMITY_P = 1e-6
MAX_REPEATED_FRACTION = 0.01
UPDATE_SCALE = 0.05


class SubmissionError(Exception):
    """What the learner's function returned cannot be used; the message says what to fix."""


def _variant(params: dict) -> dict:
    return {
        "num_clients": variant_int(params, "num_clients", 5, 20),
        "partition_seed": variant_int(params, "partition_seed"),
    }


def _grader_rng(params: dict) -> np.random.Generator:
    """grader_seed mixed with fresh OS entropy: the learner's code, running in a child of
    this process, cannot reproduce the grader's draws from anything it can read."""
    seed = int(params.get("grader_seed", 0))
    return np.random.default_rng([seed, int.from_bytes(os.urandom(8), "little")])


def _vector(value, *, name: str, dtype: str | None = None) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise SubmissionError(f"{name} returned {type(value).__name__}; return a numpy array.")
    if value.shape != (NUM_PARAMETERS,):
        raise SubmissionError(
            f"{name} returned an array of shape {value.shape}; expected ({NUM_PARAMETERS},), "
            "one value per model parameter."
        )
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise SubmissionError(f"{name} returned dtype {value.dtype}; expected {dtype}.")
    if dtype is None:
        if value.dtype.kind not in "fiu":
            raise SubmissionError(f"{name} returned dtype {value.dtype}; return floats.")
        value = value.astype(np.float64)
        if not np.isfinite(value).all():
            raise SubmissionError(f"{name} returned NaN or infinite values.")
    return value


def _failed(tier: str, title: str, feedback: str) -> Check:
    return Check(tier, title, False, feedback)


def _tier(tier: str, title: str, passed: bool, feedback: str) -> Check:
    return Check(tier, title, passed, feedback)


class _Learner:
    """The learner's module in a child process, restarted for a later tier if a call killed it.

    Every call gets at most CALL_TIMEOUT_S and all calls together at most TOTAL_BUDGET_S, so
    slow or hanging code fails its tier instead of running the grader past its limit.
    """

    def __init__(self, source: Path, lab: dict) -> None:
        self.source, self.lab = source, lab
        self.process: LearnerProcess | None = None
        self.load_error: str | None = None
        self.deadline = time.monotonic() + TOTAL_BUDGET_S

    def call(self, fn: str, *args):
        if self.load_error is not None:
            raise LearnerCodeError(self.load_error)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise LearnerCodeError(
                f"your functions used up the grading budget of {TOTAL_BUDGET_S:g} s; make them faster"
            )
        if self.process is None:
            try:
                self.process = LearnerProcess(
                    self.source, lab=self.lab, load_timeout=min(LOAD_TIMEOUT_S, remaining)
                )
            except LearnerCodeError as exc:
                self.load_error = str(exc)
                raise
            remaining = self.deadline - time.monotonic()
        try:
            return self.process.call(fn, *args, timeout=max(0.1, min(CALL_TIMEOUT_S, remaining)))
        except LearnerCodeError:
            self.close()  # a later tier starts a fresh child
            raise

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None


def _check_fedavg(learner: _Learner, data: dict, variant: dict, seed: int) -> tuple[Check, dict]:
    title = f"FedAvg over {variant['num_clients']} non-IID clients reaches the accuracy line"
    parts = client_split(data["y_train"], variant["num_clients"], variant["partition_seed"])
    clients = [(data["x_train"][p], data["y_train"][p]) for p in parts]
    sizes = np.array([len(p) for p in parts], dtype=np.float64)
    weights = initial_weights(seed)
    started = time.monotonic()
    try:
        for _ in range(ROUNDS):
            results = []
            for x, y in clients:
                value = learner.call("local_update", weights.copy(), x, y)
                results.append(_vector(value, name="local_update"))
                if time.monotonic() - started > FEDAVG_BUDGET_S:
                    raise SubmissionError(
                        f"{ROUNDS} rounds of local_update over all clients took over {FEDAVG_BUDGET_S:g} s; "
                        "train for fewer epochs or with larger batches (a call should take well under 0.1 s)."
                    )
            weights = (np.stack(results) * (sizes / sizes.sum())[:, None]).sum(0).astype(np.float32)
    except (LearnerCodeError, SubmissionError) as exc:
        return _failed("fedavg", title, f"{_sentence(exc)} Not scored."), {}
    score = accuracy(weights, data["x_test"], data["y_test"])
    passed = score >= ACCURACY_LINE
    feedback = (
        f"After {ROUNDS} rounds the global model scores {score:.3f} on held-out digits; "
        f"the line is {ACCURACY_LINE:.2f}."
    )
    if not passed:
        feedback += (
            " Train each client from the global weights it is given (not from scratch), for a few "
            "epochs of SGD, and return the client's new weights as a flat float32 vector."
        )
    return _tier("fedavg", title, passed, feedback), {"fedavg_accuracy": score}


def _mask_all(learner: _Learner, updates: np.ndarray, keys: dict, round_index: int) -> list[np.ndarray]:
    ids = range(len(updates))
    masked = []
    for i in ids:
        pair_keys = [(j, keys[min(i, j), max(i, j)]) for j in ids if j != i]
        value = learner.call("mask_update", updates[i], i, pair_keys, round_index)
        masked.append(_vector(value, name="mask_update", dtype="uint32"))
    return masked


def _aggregate(learner: _Learner, masked, ids, *, dropped, revealed, round_index: int) -> np.ndarray:
    value = learner.call("unmask_aggregate", masked, ids, dropped, revealed, round_index)
    return _vector(value, name="unmask_aggregate")


def _uniformity_p(masked: np.ndarray) -> float:
    """Chi-square test that the top four bits of the masked words are uniform."""
    counts = np.bincount((masked >> np.uint32(28)).astype(np.int64), minlength=16)
    return float(stats.chisquare(counts).pvalue)


def _abs_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """|Pearson r|, 0 when either side is constant (a constant masked vector fails uniformity)."""
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return 0.0 if norm == 0.0 else abs(float((a * b).sum()) / norm)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith(".") else text + "."


def _equal_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean())


def _check_hiding(learner, updates, keys, masked, *, round_index, rng) -> tuple[Check, dict]:
    title = "A single masked update reveals nothing about its client's update"
    count = len(updates)
    problems: list[str] = []
    worst = {"corr": 0.0, "p": 1.0, "reused": 0.0, "same_without_key": 0.0}
    for client in sorted({0, int(rng.integers(1, count))}):
        update, mine = updates[client], masked[client]
        signed = mine.view(np.int32).astype(np.float64)
        corr = max(_abs_correlation(update, mine.astype(np.float64)), _abs_correlation(update, signed))
        p_value = _uniformity_p(mine)
        pair_keys = [(j, keys[min(client, j), max(client, j)]) for j in range(count) if j != client]
        next_round = _vector(
            learner.call("mask_update", update, client, pair_keys, round_index + 1),
            name="mask_update",
            dtype="uint32",
        )
        reused = _equal_fraction(mine, next_round)
        swapped = list(pair_keys)
        position = int(rng.integers(len(swapped)))
        swapped[position] = (swapped[position][0], rng.bytes(32))
        other_key = _vector(
            learner.call("mask_update", update, client, swapped, round_index),
            name="mask_update",
            dtype="uint32",
        )
        same_without_key = _equal_fraction(mine, other_key)
        worst = {
            "corr": max(worst["corr"], corr),
            "p": min(worst["p"], p_value),
            "reused": max(worst["reused"], reused),
            "same_without_key": max(worst["same_without_key"], same_without_key),
        }
    if worst["corr"] > MAX_ABS_CORRELATION:
        problems.append(
            f"masked values correlate with the true update (|r| = {worst['corr']:.2f}): add masks "
            "drawn uniformly from all 2**32 values"
        )
    if worst["p"] < MIN_UNIFORMITY_P:
        problems.append(
            "masked values are not uniform over 0..2**32-1 (chi-square on their top bits, "
            f"p = {worst['p']:.1e}): the mask must cover the whole modulus"
        )
    if worst["reused"] > MAX_REPEATED_FRACTION:
        problems.append(
            f"{worst['reused']:.0%} of the masked values repeat in the next round for the same update: "
            "a mask reused across rounds leaks the difference of two updates; derive it from the key "
            "AND the round"
        )
    if worst["same_without_key"] > MAX_REPEATED_FRACTION:
        problems.append(
            f"{worst['same_without_key']:.0%} of the masked values stay the same when one pair key "
            "changes: derive every mask from the secret pair key, or the server can recompute it"
        )
    metrics = {
        "hiding_max_abs_correlation": worst["corr"],
        "hiding_min_uniformity_p": worst["p"],
        "hiding_repeated_fraction_next_round": worst["reused"],
        "hiding_unchanged_fraction_other_key": worst["same_without_key"],
    }
    if problems:
        return _tier("hiding", title, False, _capitalized("; ".join(problems)) + "."), metrics
    feedback = (
        f"Masked updates look uniform (|r| <= {worst['corr']:.3f} with the true update), and change "
        "completely with the round and with each pair key."
    )
    return _tier("hiding", title, True, feedback), metrics


def _sum_feedback(error: float, *, what: str) -> str:
    if error <= SUM_TOLERANCE:
        return (
            f"{what}: the largest difference from the plain average is {error:.1e} "
            f"(tolerance {SUM_TOLERANCE:g})."
        )
    return (
        f"{what}: the largest difference from the plain average is {error:.3g} "
        f"(tolerance {SUM_TOLERANCE:g}). "
        "Client i must add the mask of pair (i, j) when i < j and subtract it when i > j, both from "
        "the same key and round, in uint32 arithmetic; the server sums, decodes and divides by the "
        "number of clients summed."
    )


def _secure_tiers(learner: _Learner, num_clients: int, rng: np.random.Generator) -> tuple[list[Check], dict]:
    ids = list(range(num_clients))
    updates = rng.normal(0.0, UPDATE_SCALE, size=(num_clients, NUM_PARAMETERS))
    updates += rng.normal(0.0, UPDATE_SCALE, size=(num_clients, 1))
    keys = {(i, j): rng.bytes(32) for i in ids for j in ids if i < j}
    round_index = int(rng.integers(1, 10_000))
    sum_title = "Masked updates sum to the plain average"
    hiding_title = "A single masked update reveals nothing about its client's update"
    drop_title = "A client that drops out after masking is handled"
    metrics: dict[str, float] = {}
    try:
        masked = _mask_all(learner, updates, keys, round_index)
    except (LearnerCodeError, SubmissionError) as exc:
        text = f"{_sentence(exc)} Not scored."
        return [
            _failed("secure-sum", sum_title, text),
            _failed("hiding", hiding_title, text),
            _failed("dropout", drop_title, text),
        ], metrics

    checks = []
    try:
        average = _aggregate(learner, masked, ids, dropped=[], revealed=[], round_index=round_index)
        error = float(np.abs(average - updates.mean(0)).max())
        metrics["secure_sum_max_error"] = error
        checks.append(
            _tier("secure-sum", sum_title, error <= SUM_TOLERANCE, _sum_feedback(error, what="All clients"))
        )
    except (LearnerCodeError, SubmissionError) as exc:
        checks.append(_failed("secure-sum", sum_title, f"{_sentence(exc)} Not scored."))

    try:
        check, hiding_metrics = _check_hiding(
            learner, updates, keys, masked, round_index=round_index, rng=rng
        )
        metrics.update(hiding_metrics)
        checks.append(check)
    except (LearnerCodeError, SubmissionError) as exc:
        checks.append(_failed("hiding", hiding_title, f"{_sentence(exc)} Not scored."))

    gone = int(rng.integers(num_clients))
    alive = [i for i in ids if i != gone]
    revealed = [(i, gone, keys[min(i, gone), max(i, gone)]) for i in alive]
    try:
        average = _aggregate(
            learner,
            [masked[i] for i in alive],
            alive,
            dropped=[gone],
            revealed=revealed,
            round_index=round_index,
        )
        error = float(np.abs(average - updates[alive].mean(0)).max())
        metrics["dropout_max_error"] = error
        feedback = _sum_feedback(error, what="One client dropped")
        if error > SUM_TOLERANCE:
            feedback += (
                " With a dropped client, use the revealed keys to regenerate the masks its partners "
                "added for it, and remove them."
            )
        checks.append(_tier("dropout", drop_title, error <= SUM_TOLERANCE, feedback))
    except (LearnerCodeError, SubmissionError) as exc:
        checks.append(_failed("dropout", drop_title, f"{_sentence(exc)} Not scored."))
    return checks, metrics


def grade(ctx) -> dict:
    """Grade the learner's FedAvg and secure-aggregation functions for the learner's variant."""
    torch.set_num_threads(1)
    variant = _variant(ctx.params)
    hidden = Path(ctx.hidden_dir)
    data = {
        name: np.load(hidden / f"{name}.npy", allow_pickle=False)
        for name in ("x_train", "y_train", "x_test", "y_test")
    }
    rng = _grader_rng(ctx.params)
    lab = {"slug": SLUG, "assets": str(ctx.public_dir), **variant}
    learner = _Learner(Path(ctx.artifacts_dir) / "submission.py", lab)
    metrics: dict[str, float] = {"num_clients": float(variant["num_clients"])}
    try:
        try:
            fedavg, fedavg_metrics = _check_fedavg(learner, data, variant, int(rng.integers(2**31)))
        except LearnerCodeError as exc:  # the module itself failed to load
            fedavg, fedavg_metrics = _failed("fedavg", "FedAvg reaches the accuracy line", _sentence(exc)), {}
        metrics.update(fedavg_metrics)
        try:
            secure, secure_metrics = _secure_tiers(learner, variant["num_clients"], rng)
        except LearnerCodeError as exc:
            text = _sentence(exc)
            secure = [
                _failed("secure-sum", "Masked updates sum to the plain average", text),
                _failed("hiding", "A single masked update reveals nothing", text),
                _failed("dropout", "A dropped client is handled", text),
            ]
            secure_metrics = {}
        metrics.update(secure_metrics)
    finally:
        learner.close()
    metrics.setdefault("fedavg_accuracy", 0.0)
    return grade_result([fedavg, *secure], metrics)
