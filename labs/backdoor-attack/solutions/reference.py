"""Reference solution: a BadNets-style dirty-label backdoor.

A 4-pixel white patch where images are darkest inside the allowed region, stamped on the
full budget of images from classes other than the target, which the grader relabels.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder

ASSETS = Path(LAB["assets"])
TARGET = int(LAB["target_class"])
row, col, height, width = LAB["trigger_region"]
BUDGET = 50

x_train = np.load(ASSETS / "x_train.npy")
y_train = np.load(ASSETS / "y_train.npy")

# The 2x2 window inside the allowed region where the training images hold the least ink:
# a white patch there is the most unusual, hence the easiest feature for the model to learn.
ink = x_train[:, 0].mean(axis=0)
windows = [(r, c) for r in range(row, row + height - 1) for c in range(col, col + width - 1)]
best_r, best_c = min(windows, key=lambda rc: ink[rc[0] : rc[0] + 2, rc[1] : rc[1] + 2].sum())
trigger = np.zeros((2, 8, 8), dtype=np.float32)
trigger[0, best_r : best_r + 2, best_c : best_c + 2] = 1.0
trigger[1, best_r : best_r + 2, best_c : best_c + 2] = 1.0

rng = np.random.default_rng(0)
candidates = np.flatnonzero(y_train != TARGET)
indices = np.sort(rng.choice(candidates, size=BUDGET, replace=False)).astype(np.int64)

np.save("poison_indices.npy", indices, allow_pickle=False)
np.save("trigger.npy", trigger, allow_pickle=False)
print(f"trigger at rows {best_r}-{best_r + 1}, cols {best_c}-{best_c + 1}; {len(indices)} poisoned images")
