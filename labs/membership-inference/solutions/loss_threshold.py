"""Loss attack (Yeom et al.): score = minus the loss of the true label. Expected: AUC tier only."""

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
z = logits(load_target(ASSETS / f"target_{TARGET:02d}.pt"), x)
top = z.max(axis=1)
log_softmax = z - (top + np.log(np.exp(z - top[:, None]).sum(axis=1)))[:, None]
scores = log_softmax[np.arange(len(y)), y]  # = -cross-entropy loss
np.save("scores.npy", scores.astype(np.float64), allow_pickle=False)
