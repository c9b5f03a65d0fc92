"""Trusted grader of the backdoor-attack lab.

Checks the handed-in poison indices and trigger against the learner's variant (budget,
allowed region), builds the poisoned training set itself from its own copy of the data
(stamping the trigger and relabelling to the variant's target class), trains the CNN with
two secret seeds derived from grader_seed, and measures on hidden test images:
- attack success: triggered test images of other classes classified as the target class;
- clean accuracy on the untouched test images.
Both are averaged over the two trainings.
"""

from pathlib import Path

import numpy as np
import torch
from model import apply_trigger, predict, train_model

from _shared.artifacts import ArtifactError, load_indices, load_npy
from _shared.grading import Check, grade_result
from _shared.variants import variant_int, variant_int_list

POISON_BUDGET = 50
MAX_TRIGGER_PIXELS = 4
TRAININGS = 2
FOOTHOLD_LINE = 0.50
SUCCESS_LINE = 0.85
CLEAN_LINE = 0.95
INDICES_FILE, TRIGGER_FILE = "poison_indices.npy", "trigger.npy"
MAX_INDICES_BYTES = 4096
MAX_TRIGGER_BYTES = 4096


def _variant(params: dict) -> tuple[int, tuple[int, int, int, int]]:
    target = variant_int(params, "target_class", 0, 9)
    row, col, height, width = variant_int_list(params, "trigger_region", length=4)
    return target, (row, col, height, width)


def _load_indices(path: Path, n_train: int) -> np.ndarray:
    indices = load_indices(path, max_bytes=MAX_INDICES_BYTES)
    count = len(indices)
    if count == 0:
        raise ArtifactError(f"{path.name} is empty: choose at least one training image to poison.")
    if count > POISON_BUDGET:
        raise ArtifactError(f"{path.name} lists {count} indices; the budget is {POISON_BUDGET}.")
    if indices.min() < 0 or indices.max() >= n_train:
        raise ArtifactError(f"{path.name} has indices outside 0..{n_train - 1}.")
    if len(np.unique(indices)) != count:
        raise ArtifactError(f"{path.name} lists some index more than once; each image is poisoned once.")
    return indices


def _load_trigger(path: Path, region: tuple[int, int, int, int]) -> np.ndarray:
    trigger = load_npy(
        path, max_bytes=MAX_TRIGGER_BYTES, shape=(2, 8, 8), dtype="float32", value_range=(0.0, 1.0)
    )
    mask = trigger[0]
    if not np.isin(mask, (0.0, 1.0)).all():
        raise ArtifactError(f"{path.name}: trigger[0] is the mask and must hold only 0 and 1.")
    pixels = int(mask.sum())
    if pixels == 0:
        raise ArtifactError(f"{path.name}: the mask is empty; set at least one pixel of trigger[0] to 1.")
    if pixels > MAX_TRIGGER_PIXELS:
        raise ArtifactError(
            f"{path.name}: the mask has {pixels} pixels; at most {MAX_TRIGGER_PIXELS} are allowed."
        )
    row, col, height, width = region
    allowed = np.zeros((8, 8), dtype=bool)
    allowed[row : row + height, col : col + width] = True
    if (mask.astype(bool) & ~allowed).any():
        raise ArtifactError(
            f"{path.name}: the mask uses pixels outside your allowed region (rows {row}..{row + height - 1}, "
            f"columns {col}..{col + width - 1}, from LAB['trigger_region'])."
        )
    return trigger


def _tier(check_id: str, title: str, passed: bool | None, feedback: str) -> Check:
    if passed is None:
        return Check(check_id, title, False, "Not scored: fix the file checks above first.")
    return Check(check_id, title, passed, feedback)


def grade(ctx) -> dict:
    """Poison the training set as handed in, train twice with secret seeds, measure."""
    torch.set_num_threads(1)
    target, region = _variant(ctx.params)
    seed = int(ctx.params.get("grader_seed", 0))
    hidden = Path(ctx.hidden_dir)
    x_train = np.load(hidden / "x_train.npy", allow_pickle=False)
    y_train = np.load(hidden / "y_train.npy", allow_pickle=False)
    artifacts = Path(ctx.artifacts_dir)
    checks: list[Check] = []
    metrics: dict[str, float] = {"target_class": float(target)}

    indices = trigger = None
    try:
        indices = _load_indices(artifacts / INDICES_FILE, len(x_train))
        feedback = f"{len(indices)} indices, within the budget of {POISON_BUDGET}."
        checks.append(Check("indices-file", f"{INDICES_FILE} is valid", True, feedback))
    except ArtifactError as exc:
        checks.append(Check("indices-file", f"{INDICES_FILE} is valid", False, str(exc)))
    try:
        trigger = _load_trigger(artifacts / TRIGGER_FILE, region)
        feedback = f"{int(trigger[0].sum())} trigger pixels inside the allowed region."
        checks.append(Check("trigger-file", f"{TRIGGER_FILE} is valid", True, feedback))
    except ArtifactError as exc:
        checks.append(Check("trigger-file", f"{TRIGGER_FILE} is valid", False, str(exc)))

    success = clean = None
    if indices is not None and trigger is not None:
        x_test = np.load(hidden / "x_test.npy", allow_pickle=False)
        y_test = np.load(hidden / "y_test.npy", allow_pickle=False)
        x_poisoned, y_poisoned = x_train.copy(), y_train.copy()
        x_poisoned[indices] = apply_trigger(x_train[indices], trigger)
        y_poisoned[indices] = target
        others = y_test != target
        triggered = apply_trigger(x_test[others], trigger)
        successes, cleans = [], []
        for run in range(TRAININGS):
            model = train_model(x_poisoned, y_poisoned, seed=7919 * seed + 104_729 * run + 13)
            successes.append(float((predict(model, triggered) == target).mean()))
            cleans.append(float((predict(model, x_test) == y_test).mean()))
        success, clean = float(np.mean(successes)), float(np.mean(cleans))
        metrics.update(
            attack_success=success,
            clean_accuracy=clean,
            poisoned=float(len(indices)),
            poisoned_already_target=float((y_train[indices] == target).sum()),
            trigger_pixels=float(trigger[0].sum()),
        )

    hint = ""
    if success is not None and success < SUCCESS_LINE:
        hint = (
            " Make the trigger stand out from what images normally hold at those pixels, and spend"
            " the budget on images of other classes (relabelling an image of the target class"
            " teaches nothing)."
        )
    checks.append(
        _tier(
            "foothold",
            f"Attack success at least {FOOTHOLD_LINE:.2f}",
            None if success is None else success >= FOOTHOLD_LINE,
            f"Attack success {success or 0.0:.3f} (triggered test images of other classes "
            f"classified as {target}); the line is {FOOTHOLD_LINE:.2f}.{hint}",
        )
    )
    checks.append(
        _tier(
            "backdoor",
            f"Attack success at least {SUCCESS_LINE:.2f}",
            None if success is None else success >= SUCCESS_LINE,
            f"Attack success {success or 0.0:.3f}; the line is {SUCCESS_LINE:.2f}.{hint}",
        )
    )
    stealth_passed = None
    stealth_feedback = ""
    if success is not None:
        stealth_passed = clean >= CLEAN_LINE and success >= FOOTHOLD_LINE
        stealth_feedback = f"Clean accuracy {clean:.3f}; the line is {CLEAN_LINE:.2f}" + (
            f", and the backdoor must work (success at least {FOOTHOLD_LINE:.2f})."
            if success < FOOTHOLD_LINE
            else "."
        )
    checks.append(
        _tier(
            "stealthy",
            f"Clean accuracy at least {CLEAN_LINE:.2f} with a working backdoor",
            stealth_passed,
            stealth_feedback,
        )
    )
    return grade_result(checks, metrics)
