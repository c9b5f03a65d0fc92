"""Naive solution: one signed-gradient step (FGSM). Expected: untargeted tier only."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_victim

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
TARGET_OFFSET = int(LAB["target_offset"])

victim = load_victim(ASSETS / "victim.pt")
x = torch.from_numpy(np.load(ASSETS / "x_eval.npy"))
y = torch.from_numpy(np.load(ASSETS / "y_eval.npy"))
target = (y + TARGET_OFFSET) % 10


def fgsm(labels: torch.Tensor, epsilon: float, *, targeted: bool) -> np.ndarray:
    images = x.clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(victim(images), labels)
    (gradient,) = torch.autograd.grad(loss, images)
    step = -gradient.sign() if targeted else gradient.sign()
    return (x + epsilon * step).clamp(0.0, 1.0).numpy().astype(np.float32)


np.save("adv_untargeted.npy", fgsm(y, 0.1, targeted=False), allow_pickle=False)
np.save("adv_targeted.npy", fgsm(target, 0.3, targeted=True), allow_pickle=False)
