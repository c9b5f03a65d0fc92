"""Reference solution: calibrate the noise to the budget with Opacus' accountant, then check.

get_noise_multiplier finds the smallest noise that keeps the RDP epsilon under the target for
the chosen sampling rate and number of epochs; a 3% safety margin absorbs rounding.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from opacus.accountants.utils import get_noise_multiplier

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import DELTA, check_config, predict_logits, train_dp

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
BUDGET = float(LAB["epsilon_budget"])
x_train, y_train = np.load(ASSETS / "x_train.npy"), np.load(ASSETS / "y_train.npy")
x_val, y_val = np.load(ASSETS / "x_val.npy"), np.load(ASSETS / "y_val.npy")

BATCH_SIZE, EPOCHS = 250, 30
sample_rate = 1 / math.ceil(len(x_train) / BATCH_SIZE)  # what Opacus' Poisson sampler uses
noise = get_noise_multiplier(
    target_epsilon=0.97 * BUDGET, target_delta=DELTA, sample_rate=sample_rate, epochs=EPOCHS, accountant="rdp"
)
config = {
    "noise_multiplier": round(noise, 4) + 0.0001,
    "max_grad_norm": 1.0,
    "batch_size": BATCH_SIZE,
    "epochs": EPOCHS,
    "lr": 1.0,
    "momentum": 0.0,
}
assert check_config(config, len(x_train)) is None
model, epsilon = train_dp(config, x_train, y_train, seed=0)
accuracy = (predict_logits(model, x_val).argmax(axis=1) == y_val).mean()
print(f"epsilon {epsilon:.3f} (budget {BUDGET}), validation accuracy {accuracy:.3f}")
with open("dp_config.json", "w") as f:
    json.dump(config, f)
