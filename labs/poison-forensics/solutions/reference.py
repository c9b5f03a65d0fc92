"""Reference solution: nearest-neighbour label disagreement, then trigger reconstruction.

1. For every image, the share of its 10 nearest neighbours (raw pixels) with the same label.
   Flipped and backdoor images disagree with their neighbours.
2. The suspicious images mostly share one label: the backdoor's target. Pixels that are
   saturated in those images far more often than in the whole set are the trigger.
3. Flag every image of the target label that carries the whole trigger, then fill the
   budget with the most-disagreeing images.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, LAB["assets"])
from forensics_data import load_learner_set

BUDGET = 160
x, y = load_learner_set(Path(LAB["assets"]), LAB["dataset"], LAB["shuffle_seed"])
flat = x.reshape(len(x), -1)

_, neighbours = NearestNeighbors(n_neighbors=11).fit(flat).kneighbors(flat)
agreement = (y[neighbours[:, 1:]] == y[:, None]).mean(axis=1)
suspicious = agreement < 0.5

target = int(np.bincount(y[suspicious], minlength=10).argmax())
saturated = flat >= 0.999
excess = saturated[suspicious & (y == target)].mean(axis=0) - saturated.mean(axis=0)
trigger = excess > 0.5
backdoor = (
    np.flatnonzero((y == target) & saturated[:, trigger].all(axis=1)) if trigger.any() else np.array([], int)
)

chosen = list(backdoor[:BUDGET])
taken = set(chosen)
for index in np.argsort(agreement, kind="stable"):
    if len(chosen) >= BUDGET:
        break
    if index not in taken:
        chosen.append(int(index))
np.save("flagged.npy", np.array(chosen, dtype=np.int64), allow_pickle=False)
print(f"target {target}, trigger pixels {np.flatnonzero(trigger).tolist()}, {len(backdoor)} carry it")
