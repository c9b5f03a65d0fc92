"""Reference solution: nearest-neighbour label disagreement, then trigger reconstruction.

1. For every image, the share of its 10 nearest neighbours (raw pixels) with the same label.
   Flipped and backdoor images disagree with their neighbours (backdoor images less so: they
   resemble each other through the trigger they share).
2. A trigger pixel is saturated in images that nearly all carry one label (the target) and
   that nonetheless look unlike that label (their neighbours disagree). Score every pixel by
   the label purity of the images that saturate it times their mean disagreement; the best
   pixel gives the target, and the pixels scoring at least half as much with the same
   majority label are the trigger.
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

saturated = flat >= 0.999
score = np.zeros(flat.shape[1])
majority = np.zeros(flat.shape[1], dtype=int)
for pixel in np.flatnonzero(saturated.sum(axis=0) >= 10):
    carriers = saturated[:, pixel]
    counts = np.bincount(y[carriers], minlength=10)
    majority[pixel] = counts.argmax()
    score[pixel] = counts.max() / counts.sum() * (1.0 - agreement[carriers]).mean()
target = int(majority[score.argmax()])
trigger = (score >= 0.5 * score.max()) & (majority == target)
backdoor = np.flatnonzero((y == target) & saturated[:, trigger].all(axis=1))

chosen = list(backdoor[:BUDGET])
taken = set(chosen)
for index in np.argsort(agreement, kind="stable"):
    if len(chosen) >= BUDGET:
        break
    if index not in taken:
        chosen.append(int(index))
np.save("flagged.npy", np.array(chosen, dtype=np.int64), allow_pickle=False)
print(f"target {target}, trigger pixels {np.flatnonzero(trigger).tolist()}, {len(backdoor)} carry it")
