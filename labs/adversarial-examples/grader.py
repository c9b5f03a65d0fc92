"""Trusted grader of the adversarial-examples lab.

Recomputes both success rates with its own copy of the victim and the evaluation images
(from the hidden assets), after checking every handed-in array for shape, dtype,
finiteness, pixel range and the L-infinity budget. Deterministic: grader_seed is not used.
"""

from pathlib import Path

import numpy as np
import torch
from model import load_victim

from _shared.artifacts import ArtifactError, load_npy
from _shared.grading import Check, grade_result, not_scored

EPS_UNTARGETED = 0.1
EPS_TARGETED = 0.3
EPS_TOLERANCE = 1e-6
UNTARGETED_PASS_RATE = 0.30
TARGETED_PASS_RATE = 0.90
MAX_ARTIFACT_BYTES = 163_840  # float32 needs 76,928 bytes; float64 gets the dtype message


def _load_hidden(hidden_dir: Path) -> tuple[torch.nn.Module, np.ndarray, np.ndarray]:
    x_eval = np.load(hidden_dir / "x_eval.npy", allow_pickle=False)
    y_eval = np.load(hidden_dir / "y_eval.npy", allow_pickle=False)
    return load_victim(hidden_dir / "victim.pt"), x_eval, y_eval


def _target_offset(params: dict) -> int:
    offset = params.get("variant", {}).get("target_offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 1 <= offset <= 9:
        raise ValueError(f"grader misconfigured: variant.target_offset must be 1..9, not {offset!r}")
    return offset


def _load_adversarial(path: Path, x_eval: np.ndarray, epsilon: float) -> np.ndarray:
    adversarial = load_npy(
        path,
        max_bytes=MAX_ARTIFACT_BYTES,
        shape=x_eval.shape,
        dtype="float32",
        value_range=(0.0, 1.0),
    )
    distance = np.abs(adversarial.astype(np.float64) - x_eval.astype(np.float64))
    per_image = distance.reshape(len(x_eval), -1).max(axis=1)
    over = per_image > epsilon + EPS_TOLERANCE
    if over.any():
        raise ArtifactError(
            f"{path.name}: {int(over.sum())} of {len(x_eval)} images are farther than "
            f"epsilon = {epsilon:g} from their originals in L-infinity (largest distance "
            f"{float(per_image.max()):.4f}). Keep every pixel within x +/- epsilon and the images "
            "in the order of x_eval.npy."
        )
    return adversarial


def _predict(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(images))).argmax(dim=1).numpy()


def _file_check(check_id: str, title: str, error: ArtifactError | None) -> Check:
    return Check(
        id=check_id,
        title=title,
        passed=error is None,
        feedback="The file is well formed and within the budget." if error is None else str(error),
    )


def _tier_check(check_id: str, title: str, *, rate: float | None, line: float, what: str) -> Check:
    if rate is None:
        return not_scored(check_id, title)
    passed = rate >= line
    verdict = "passed" if passed else "below the line"
    hint = (
        ""
        if passed
        else " Try an iterative attack: several small signed-gradient steps, each projected back."
    )
    return Check(
        id=check_id,
        title=title,
        passed=passed,
        feedback=f"{what} success rate {rate:.3f}; the line is {line:.2f}: {verdict}.{hint}",
    )


def grade(ctx) -> dict:
    """Grade adv_untargeted.npy and adv_targeted.npy against the learner's variant."""
    torch.set_num_threads(1)
    offset = _target_offset(ctx.params)
    model, x_eval, y_eval = _load_hidden(Path(ctx.hidden_dir))
    targets = (y_eval + offset) % 10
    artifacts_dir = Path(ctx.artifacts_dir)
    checks: list[Check] = []
    metrics: dict[str, float] = {"target_offset": float(offset)}

    attacks = (
        ("untargeted", EPS_UNTARGETED, UNTARGETED_PASS_RATE, "Untargeted", lambda pred: pred != y_eval),
        (
            "targeted",
            EPS_TARGETED,
            TARGETED_PASS_RATE,
            f"Targeted (offset {offset})",
            lambda pred: pred == targets,
        ),
    )
    titles = {
        "untargeted": f"Untargeted evasion at epsilon {EPS_UNTARGETED:g}",
        "targeted": f"Targeted evasion to (y + {offset}) mod 10 at epsilon {EPS_TARGETED:g}",
    }
    for tier, epsilon, line, what, succeeded in attacks:
        rate: float | None = None
        error = None
        name = f"adv_{tier}.npy"
        try:
            adversarial = _load_adversarial(artifacts_dir / name, x_eval, epsilon)
            rate = float(succeeded(_predict(model, adversarial)).mean())
        except ArtifactError as exc:
            error = exc
        checks.append(_file_check(f"{tier}-file", f"{name} is valid", error))
        checks.append(_tier_check(tier, titles[tier], rate=rate, line=line, what=what))
        metrics[f"{tier}_success_rate"] = rate if rate is not None else 0.0

    return grade_result(checks, metrics)
