"""Trusted grader of the poison-forensics lab.

Maps the learner's flagged indices back to the prebuilt set through the learner's own
permutation (recomputed from the variant in params, never taken from the learner) and
scores recall on the label flips and on the backdoor images from the hidden truth. Only
aggregate recalls are reported: never which images were poisoned.
"""

from pathlib import Path

import numpy as np
from forensics_data import learner_order

from _shared.artifacts import ArtifactError, load_indices
from _shared.grading import Check, grade_result, not_scored
from _shared.variants import variant_int

FLAG_BUDGET = 160
FLIP_LINE = 0.90
BACKDOOR_LINE = 0.60
FULL_BACKDOOR_LINE = 0.95
ARTIFACT = "flagged.npy"
MAX_ARTIFACT_BYTES = 4096
UNSCORED_TITLES = {
    "flips": "Find the label flips",
    "backdoor": "Find the backdoor images",
    "full-backdoor": "Recover the whole backdoor",
}


def _variant(params: dict, n_sets: int) -> tuple[int, int]:
    return variant_int(params, "dataset", 0, n_sets - 1), variant_int(params, "shuffle_seed", 1)


def _load_flags(path: Path, n: int) -> np.ndarray:
    flags = load_indices(path, max_bytes=MAX_ARTIFACT_BYTES)
    count = len(flags)
    if count > FLAG_BUDGET:
        raise ArtifactError(f"{path.name} flags {count} images; the budget is {FLAG_BUDGET}.")
    if count and (flags.min() < 0 or flags.max() >= n):
        raise ArtifactError(f"{path.name} has indices outside 0..{n - 1}.")
    if len(np.unique(flags)) != count:
        raise ArtifactError(f"{path.name} flags some image more than once.")
    return flags


def grade(ctx) -> dict:
    """Recall of flagged.npy on the learner's set's flips and backdoor images."""
    hidden = Path(ctx.hidden_dir)
    flip_mask = np.load(hidden / "flip_mask.npy", allow_pickle=False)
    backdoor_mask = np.load(hidden / "backdoor_mask.npy", allow_pickle=False)
    dataset, shuffle_seed = _variant(ctx.params, len(flip_mask))
    flips, backdoor = flip_mask[dataset], backdoor_mask[dataset]
    n = len(flips)
    checks: list[Check] = []
    metrics: dict[str, float] = {}
    try:
        flags = _load_flags(Path(ctx.artifacts_dir) / ARTIFACT, n)
        checks.append(
            Check(
                "flags-file",
                f"{ARTIFACT} is valid",
                True,
                f"{len(flags)} images flagged, within the budget of {FLAG_BUDGET}.",
            )
        )
    except ArtifactError as exc:
        checks.append(Check("flags-file", f"{ARTIFACT} is valid", False, str(exc)))
        checks += [not_scored(tier, title) for tier, title in UNSCORED_TITLES.items()]
        return grade_result(checks, metrics)

    base = learner_order(shuffle_seed, n)[flags]  # the prebuilt rows the learner flagged
    flagged = np.zeros(n, dtype=bool)
    flagged[base] = True
    flip_recall = float((flagged & flips).sum() / flips.sum())
    backdoor_recall = float((flagged & backdoor).sum() / backdoor.sum())
    metrics = {"flip_recall": flip_recall, "backdoor_recall": backdoor_recall, "flagged": float(len(flags))}

    passed = flip_recall >= FLIP_LINE
    checks.append(
        Check(
            "flips",
            f"Label-flip recall at least {FLIP_LINE:.2f}",
            passed,
            f"You found {flip_recall:.3f} of the label flips; the line is {FLIP_LINE:.2f}."
            + (
                ""
                if passed
                else " Compare each label with what similar images are labelled (nearest neighbours)."
            ),
        )
    )
    passed = backdoor_recall >= BACKDOOR_LINE
    checks.append(
        Check(
            "backdoor",
            f"Backdoor recall at least {BACKDOOR_LINE:.2f}",
            passed,
            f"You found {backdoor_recall:.3f} of the backdoor images; the line is {BACKDOOR_LINE:.2f}."
            + (
                ""
                if passed
                else " A model trained on the poisoned set fits backdoor images well, so their loss is "
                "low: look at the data itself (neighbours, a label that many odd images share)."
            ),
        )
    )
    passed = backdoor_recall >= FULL_BACKDOOR_LINE
    checks.append(
        Check(
            "full-backdoor",
            f"Backdoor recall at least {FULL_BACKDOOR_LINE:.2f}",
            passed,
            f"Backdoor recall {backdoor_recall:.3f}; this tier needs {FULL_BACKDOOR_LINE:.2f}."
            + (
                ""
                if passed
                else " Reconstruct the trigger from the suspicious images of one label, then flag "
                "every image that carries it."
            ),
        )
    )
    return grade_result(checks, metrics)
