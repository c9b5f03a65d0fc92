"""Reference solution with the Adversarial Robustness Toolbox: ProjectedGradientDescent."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch
from art.attacks.evasion import ProjectedGradientDescent
from art.estimators.classification import PyTorchClassifier

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_victim

torch.set_num_threads(1)
np.random.seed(0)
ASSETS = Path(LAB["assets"])
TARGET_OFFSET = int(LAB["target_offset"])

victim = load_victim(ASSETS / "victim.pt")
x_eval = np.load(ASSETS / "x_eval.npy")
y_eval = np.load(ASSETS / "y_eval.npy")
classifier = PyTorchClassifier(
    model=victim,
    loss=torch.nn.CrossEntropyLoss(),
    input_shape=(1, 8, 8),
    nb_classes=10,
    clip_values=(0.0, 1.0),
    device_type="cpu",
)


def attack(epsilon: float, labels: np.ndarray, *, targeted: bool) -> np.ndarray:
    pgd = ProjectedGradientDescent(
        classifier,
        norm=np.inf,
        eps=epsilon,
        eps_step=epsilon / 16,
        max_iter=40,
        targeted=targeted,
        num_random_init=1,
        batch_size=len(x_eval),
        verbose=False,
    )
    one_hot = np.eye(10, dtype=np.float32)[labels]
    return pgd.generate(x=x_eval, y=one_hot).astype(np.float32)


np.save("adv_untargeted.npy", attack(0.1, y_eval, targeted=False), allow_pickle=False)
target = (y_eval + TARGET_OFFSET) % 10
np.save("adv_targeted.npy", attack(0.3, target, targeted=True), allow_pickle=False)
