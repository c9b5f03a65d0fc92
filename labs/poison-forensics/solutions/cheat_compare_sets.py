"""Cheat: line the learner's set up with the 23 other sets in the public assets and vote.

x_sets.npy holds every learner's set. If all sets held the same images in the same row order,
each row's majority label across the sets would be its clean label and each row's median
image its clean image: a label that differs is poison, and pixels above the median are the
trigger. The recipe renders every set with its own warp and puts its rows in a secret order
of its own, so row i of one set is an unrelated image in another: this must fail.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, LAB["assets"])
from forensics_data import learner_order

BUDGET = 160
assets = Path(LAB["assets"])
x_sets = np.load(assets / "x_sets.npy").astype(np.int64)  # (S, N, 8, 8), rows in stored order
y_sets = np.load(assets / "y_sets.npy")
mine = LAB["dataset"]
n = y_sets.shape[1]

votes = np.stack([np.bincount(column, minlength=10) for column in y_sets.T])  # (N, 10)
majority = votes.argmax(axis=1)
median = np.median(x_sets, axis=0)
above = (x_sets[mine] - median >= 8).reshape(n, -1).sum(axis=1)  # pixels planted on this set only
label_differs = y_sets[mine] != majority
agreement = votes[np.arange(n), y_sets[mine]] / len(y_sets)

# Stored-order rows: most pixels above the median first, then lone labels.
stored = np.lexsort((agreement, -above, ~label_differs))[:BUDGET]
# The learner's row k is stored row order[k]: hand in the learner's indices.
position = np.argsort(learner_order(LAB["shuffle_seed"], n))
np.save("flagged.npy", position[stored].astype(np.int64), allow_pickle=False)
print(f"{int(label_differs.sum())} labels differ from the row majority, {int((above > 0).sum())} stand out")
