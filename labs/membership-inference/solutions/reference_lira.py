"""Reference solution: offline LiRA with the other targets as reference (OUT) models.

Every other target was trained with the same recipe on a disjoint block, so none of them saw
these candidates: per record, fit a Gaussian to their logit-scaled confidences and score how
far the learner's target sits above it.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_target, logits

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
TARGET = int(LAB["target_model"])
x = np.load(ASSETS / "x_candidates.npy")[TARGET]
y = np.load(ASSETS / "y_candidates.npy")[TARGET]


def scaled_confidence(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log(p_y / (1 - p_y)) computed stably from logits: z_y - logsumexp(z_other)."""
    rows = np.arange(len(labels))
    true = z[rows, labels].copy()
    other = z.copy()
    other[rows, labels] = -np.inf
    top = other.max(axis=1)
    return true - (top + np.log(np.exp(other - top[:, None]).sum(axis=1)))


stats = np.array(
    [scaled_confidence(logits(load_target(ASSETS / f"target_{k:02d}.pt"), x), y) for k in range(16)]
)
observed, reference = stats[TARGET], np.delete(stats, TARGET, axis=0)
mean, std = reference.mean(axis=0), reference.std(axis=0)
scores = (observed - mean) / np.maximum(std, np.median(std))
np.save("scores.npy", scores.astype(np.float64), allow_pickle=False)
