"""Trusted grader of the dp-sgd-budget lab.

Reads the learner's DP-SGD configuration (a small JSON object, never code), trains the model
itself twice with Opacus and secret seeds, takes epsilon from Opacus' RDP accountant (the
learner's own claim is not read), measures held-out accuracy and the AUC of a loss-threshold
membership-inference attack (training records against hidden held-out records).
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
from model import DELTA, check_config, predict_logits, train_dp
from scipy.stats import rankdata

from _shared.artifacts import ArtifactError, read_artifact_bytes
from _shared.grading import Check, grade_result

ACCURACY_LINE = 0.65
AUC_LINE = 0.58
MAX_BYTES = 4096
TRAININGS = 2
BUDGETS = (3.0, 3.5, 4.0)


def _budget(params: dict) -> float:
    value = params.get("variant", {}).get("epsilon_budget")
    if value not in BUDGETS:
        raise ValueError(f"grader misconfigured: variant.epsilon_budget must be one of {BUDGETS}")
    return float(value)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def load_config(path: Path, n_train: int) -> dict:
    data = read_artifact_bytes(path, max_bytes=MAX_BYTES)
    try:
        config = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{path.name} is not valid JSON ({exc}).") from None
    problem = check_config(config, n_train)
    if problem:
        raise ArtifactError(f"{path.name}: {problem}.")
    return config


def nll(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=1)) - logits[np.arange(len(y)), y]


def attack_auc(model, x_in, y_in, x_out, y_out) -> float:
    """Loss-threshold membership inference: AUC of -loss, members vs held-out records."""
    scores = -np.concatenate(
        [nll(predict_logits(model, x_in), y_in), nll(predict_logits(model, x_out), y_out)]
    )
    ranks = rankdata(scores)
    n_in, n_out = len(x_in), len(x_out)
    return float((ranks[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out))


def grade(ctx) -> dict:
    """Train the learner's configuration and score budget, utility and the membership audit."""
    torch.set_num_threads(1)
    budget = _budget(ctx.params)
    public, hidden = Path(ctx.public_dir), Path(ctx.hidden_dir)
    x_train = np.load(public / "x_train.npy", allow_pickle=False)
    y_train = np.load(public / "y_train.npy", allow_pickle=False)
    x_test = np.load(hidden / "x_test.npy", allow_pickle=False)
    y_test = np.load(hidden / "y_test.npy", allow_pickle=False)
    metrics: dict[str, float] = {"epsilon_budget": budget}
    checks: list[Check] = []
    try:
        config = load_config(Path(ctx.artifacts_dir) / "dp_config.json", len(x_train))
        error = None
    except ArtifactError as exc:
        config, error = None, str(exc)
    checks.append(
        Check(
            "config-file",
            "dp_config.json is valid",
            error is None,
            error or "The configuration is well formed and within the allowed ranges.",
        )
    )
    if config is None:
        feedback = "Not scored: fix the file check above first."
        checks.append(Check("epsilon", f"epsilon <= {budget:g}", False, feedback))
        checks.append(Check("utility", f"accuracy >= {ACCURACY_LINE:.2f}", False, feedback))
        checks.append(Check("audit", f"attack AUC <= {AUC_LINE:.2f}", False, feedback))
        metrics.update(epsilon=0.0, accuracy=0.0, attack_auc=0.0)
        return grade_result(checks, metrics)

    rng = np.random.default_rng(int(ctx.params.get("grader_seed", 0)))
    epsilons, accuracies, aucs = [], [], []
    for seed in rng.integers(0, 2**31 - 2, size=TRAININGS):
        model, epsilon = train_dp(config, x_train, y_train, int(seed))
        epsilons.append(epsilon)
        accuracies.append(float((predict_logits(model, x_test).argmax(axis=1) == y_test).mean()))
        aucs.append(attack_auc(model, x_train, y_train, x_test, y_test))
    epsilon, accuracy, auc = max(epsilons), float(np.mean(accuracies)), float(np.mean(aucs))
    metrics.update(epsilon=epsilon if math.isfinite(epsilon) else 1e9, accuracy=accuracy, attack_auc=auc)

    private = epsilon <= budget + 1e-9
    if math.isinf(epsilon):
        why = "noise_multiplier 0 adds no noise: there is no privacy guarantee at all (epsilon = inf)."
    elif private:
        why = (
            f"Opacus' RDP accountant gives epsilon {epsilon:.3f} at delta {DELTA:g}: "
            f"within your budget {budget:g}."
        )
    else:
        why = (
            f"Opacus' RDP accountant gives epsilon {epsilon:.3f} at delta {DELTA:g}, over your budget "
            f"{budget:g}: raise noise_multiplier, or lower epochs or batch_size (the sampling rate)."
        )
    checks.append(
        Check(
            "epsilon",
            f"epsilon <= {budget:g} at delta {DELTA:g}",
            private,
            why,
        )
    )
    gate = " (not awarded: the model is over the privacy budget)" if not private else ""
    useful = private and accuracy >= ACCURACY_LINE
    hint = ""
    if accuracy < ACCURACY_LINE:
        hint = (
            " More noise than needed, too few steps or a learning rate that is too small or too "
            "large are the usual causes; calibrate noise_multiplier to exactly your budget."
        )
    checks.append(
        Check(
            "utility",
            f"Held-out accuracy at least {ACCURACY_LINE:.2f}",
            useful,
            f"Mean held-out accuracy over {TRAININGS} trainings {accuracy:.3f}; "
            f"the line is {ACCURACY_LINE:.2f}.{hint}{gate}",
        )
    )
    audited = private and auc <= AUC_LINE
    checks.append(
        Check(
            "audit",
            f"Membership-inference AUC at most {AUC_LINE:.2f}",
            audited,
            f"Loss-attack AUC {auc:.3f} (non-private training of the same model: about 0.63); "
            f"the line is {AUC_LINE:.2f}.{gate}",
        )
    )
    return grade_result(checks, metrics)
