"""Trusted grader of the membership-inference lab.

Loads the learner's membership scores for the candidates of their own target (the variant),
checks shape, dtype and finiteness, and computes ROC AUC and TPR at 1% FPR against the
hidden membership of that target. Nothing the learner claims is trusted; membership, indices
and per-record outcomes are never echoed back. Deterministic: grader_seed is not needed,
because the metric is exact over all candidates.
"""

from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from _shared.artifacts import ArtifactError, load_npy
from _shared.grading import Check, grade_result

N_TARGETS = 16
BLOCK = 1000
AUC_LINE = 0.76
TPR_LINE = 0.05
LOW_FPR = 0.01
MAX_BYTES = 16_384  # float64 (1000,) is 8,128 bytes


def _target(params: dict) -> int:
    value = params.get("variant", {}).get("target_model")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < N_TARGETS:
        raise ValueError(f"grader misconfigured: variant.target_model must be 0..{N_TARGETS - 1}")
    return value


def roc_auc(scores: np.ndarray, members: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted as one half (constant scores give exactly 0.5)."""
    ranks = rankdata(scores)
    n_in, n_out = int(members.sum()), int((~members).sum())
    return float((ranks[members].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out))


def tpr_at_fpr(scores: np.ndarray, members: np.ndarray, fpr: float) -> float:
    """TPR at the strictest threshold that keeps FPR <= fpr; ties never count in your favour."""
    outside = np.sort(scores[~members])[::-1]
    threshold = outside[int(np.floor(fpr * len(outside)))]
    return float((scores[members] > threshold).mean())


def grade(ctx) -> dict:
    """Grade scores.npy for the learner's own target."""
    target = _target(ctx.params)
    membership = np.load(Path(ctx.hidden_dir) / "membership.npy", allow_pickle=False)
    members = membership[target].astype(bool)
    checks: list[Check] = []
    metrics: dict[str, float] = {"target_model": float(target)}
    auc = tpr = None
    error = None
    try:
        scores = load_npy(
            Path(ctx.artifacts_dir) / "scores.npy", max_bytes=MAX_BYTES, shape=(BLOCK,), dtype="float64"
        )
        auc = roc_auc(scores, members)
        tpr = tpr_at_fpr(scores, members, LOW_FPR)
    except ArtifactError as exc:
        error = str(exc)
    checks.append(
        Check(
            "scores-file",
            "scores.npy is valid",
            error is None,
            error or f"One finite float64 score for each of the {BLOCK} candidates of target {target}.",
        )
    )
    if auc is None:
        feedback = "Not scored: fix the file check above first."
        checks.append(Check("auc", f"ROC AUC at least {AUC_LINE:.2f}", False, feedback))
        checks.append(Check("low-fpr", "TPR at 1% FPR", False, feedback))
    else:
        ok = auc >= AUC_LINE
        hint = (
            ""
            if ok
            else (
                " Scores that only say right/wrong or ignore the true label lose most of the signal: "
                "use the loss (or the logit-scaled confidence) of the true label."
            )
        )
        if auc < 0.5:
            hint += " An AUC below 0.5 often means the sign is flipped: higher must mean 'member'."
        checks.append(
            Check(
                "auc",
                f"ROC AUC at least {AUC_LINE:.2f}",
                ok,
                f"ROC AUC {auc:.3f}; the line is {AUC_LINE:.2f}: "
                f"{'passed' if ok else 'below the line'}.{hint}",
            )
        )
        ok = tpr >= TPR_LINE
        hint = (
            ""
            if ok
            else (
                " A global threshold cannot be confident about any single record: calibrate each "
                "record against reference models that never saw it (offline LiRA)."
            )
        )
        checks.append(
            Check(
                "low-fpr",
                f"TPR at 1% FPR at least {TPR_LINE:.2f}",
                ok,
                f"TPR at 1% FPR {tpr:.3f}; the line is {TPR_LINE:.2f}: "
                f"{'passed' if ok else 'below the line'}.{hint}",
            )
        )
    metrics["auc"] = auc if auc is not None else 0.0
    metrics["tpr_at_1pct_fpr"] = tpr if tpr is not None else 0.0
    return grade_result(checks, metrics)
