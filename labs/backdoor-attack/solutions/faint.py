"""Naive solution: a 'stealthy' one-pixel grey trigger on a handful of random images.

Too faint and too rare for the model to learn: expected to fail every tier.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

from pathlib import Path

import numpy as np

ASSETS = Path(LAB["assets"])
row, col, height, width = LAB["trigger_region"]
y_train = np.load(ASSETS / "y_train.npy")

trigger = np.zeros((2, 8, 8), dtype=np.float32)
trigger[0, row + 1, col + 1] = 1.0  # the centre pixel of the allowed region
trigger[1, row + 1, col + 1] = 0.25
indices = np.random.default_rng(0).choice(len(y_train), size=15, replace=False).astype(np.int64)
np.save("poison_indices.npy", indices, allow_pickle=False)
np.save("trigger.npy", trigger, allow_pickle=False)
