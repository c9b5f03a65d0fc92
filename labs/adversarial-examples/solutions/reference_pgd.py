"""Reference solution: hand-written L-infinity PGD (Madry et al.) with a random start."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_victim

torch.set_num_threads(1)
torch.manual_seed(0)
ASSETS = Path(LAB["assets"])
TARGET_OFFSET = int(LAB["target_offset"])

victim = load_victim(ASSETS / "victim.pt")
x = torch.from_numpy(np.load(ASSETS / "x_eval.npy"))
y = torch.from_numpy(np.load(ASSETS / "y_eval.npy"))
target = (y + TARGET_OFFSET) % 10


def pgd(labels: torch.Tensor, epsilon: float, *, targeted: bool, steps: int = 40) -> np.ndarray:
    """Ascend (untargeted) or descend (targeted) the loss; project onto the ε-ball and [0, 1]."""
    step_size = 2.5 * epsilon / steps
    low, high = (x - epsilon).clamp(0.0, 1.0), (x + epsilon).clamp(0.0, 1.0)
    images = (x + torch.empty_like(x).uniform_(-epsilon, epsilon)).clamp(0.0, 1.0)
    for _ in range(steps):
        images.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(victim(images), labels)
        (gradient,) = torch.autograd.grad(loss, images)
        direction = -gradient.sign() if targeted else gradient.sign()
        images = torch.min(torch.max(images.detach() + step_size * direction, low), high)
    return images.numpy().astype(np.float32)


np.save("adv_untargeted.npy", pgd(y, 0.1, targeted=False), allow_pickle=False)
np.save("adv_targeted.npy", pgd(target, 0.3, targeted=True), allow_pickle=False)
