"""Naive solution: flag the images a model trained on the set finds hardest (highest loss).

Finds label flips, but the backdoor images are fitted well (the trigger explains their
label), so their loss is low. Expected: the flips tier only.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, LAB["assets"])
from forensics_data import load_learner_set

x, y = load_learner_set(Path(LAB["assets"]), LAB["dataset"], LAB["shuffle_seed"])
flat = x.reshape(len(x), -1)
model = LogisticRegression(max_iter=300).fit(flat, y)
probability_of_label = model.predict_proba(flat)[np.arange(len(y)), y]
flagged = np.argsort(probability_of_label, kind="stable")[:160]
np.save("flagged.npy", flagged.astype(np.int64), allow_pickle=False)
