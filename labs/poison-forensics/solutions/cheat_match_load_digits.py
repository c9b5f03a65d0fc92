"""Cheat: match every image to scikit-learn's bundled digits and read the poison off its original.

No forensics at all. The sandbox ships scikit-learn, so `load_digits()` is at hand. If the
training set were a split of those very images, each image's nearest bundled digit would be
its clean original: an exact copy whose label differs is a flip, and a copy with a few pixels
saturated on top is a backdoor image (those pixels are the trigger). Whatever budget is left
goes to the images whose nearest bundled digit carries another label, closest matches first.

The lab's sets are re-rendered (a slanting warp per set, a small warp per image, noise,
re-quantisation), so no image is a copy of a bundled digit, nearest matches are rarely the
original, and their labels are wrong too often to single out the poison: this must fail.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, LAB["assets"])
from forensics_data import load_learner_set

BUDGET = 160
x, y = load_learner_set(Path(LAB["assets"]), LAB["dataset"], LAB["shuffle_seed"])
levels = np.rint(x.reshape(len(x), -1) * 16.0)
digits = load_digits()
originals = digits.images.reshape(len(digits.images), -1)

distance, index = NearestNeighbors(n_neighbors=1).fit(originals).kneighbors(levels)
distance, match = distance[:, 0], index[:, 0]
residual = levels - originals[match]
label_differs = y != digits.target[match]
raised = (residual >= 8).any(axis=1)  # pixels made much brighter than in the original
copy = (np.abs(residual) <= 1).sum(axis=1) >= 60  # the original, up to a trigger of <= 4 pixels
backdoor = copy & raised
flip = copy & ~raised & label_differs

# Rank: backdoor copies, flipped copies, then other label disagreements, closest match first.
rank = np.lexsort((distance, ~label_differs, ~flip, ~backdoor))
np.save("flagged.npy", rank[:BUDGET].astype(np.int64), allow_pickle=False)
print(
    f"{int(copy.sum())} of {len(y)} images are copies of a bundled digit "
    f"(median distance to the nearest {np.median(distance):.1f}); {int(backdoor.sum())} backdoor copies, "
    f"{int(flip.sum())} flipped copies, {int(label_differs.sum())} labels differ from the nearest digit"
)
