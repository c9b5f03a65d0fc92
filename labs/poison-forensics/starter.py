# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Poison forensics: find the poisoned training images
#
# Your training set was tampered with: 40 images got a wrong label, and 40 images carry a
# small backdoor trigger and the attacker's target label. You know neither the trigger nor
# the target. Flag at most 160 images. Read the brief first. Your set and its order are yours
# alone (`LAB["dataset"]`, `LAB["shuffle_seed"]`): always load it with `load_learner_set`.

# %%
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, LAB["assets"])  # forensics_data.py lives in the read-only assets folder
from forensics_data import load_learner_set

x, y = load_learner_set(Path(LAB["assets"]), LAB["dataset"], LAB["shuffle_seed"])
FLAG_BUDGET = 160
print(f"{len(x)} images (float32, shape {x.shape[1:]}), labels {np.bincount(y)}")


# %%
def suspicion_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return one score per image: higher means more likely poisoned."""
    # TODO: your detector. Equal scores run, but find nothing.
    return np.zeros(len(y))


# %%
scores = suspicion_scores(x, y)
flagged = np.argsort(-scores, kind="stable")[:0]  # TODO: flag up to FLAG_BUDGET images
np.save("flagged.npy", flagged.astype(np.int64), allow_pickle=False)
print(f"flagged {len(flagged)} of {len(y)} images")
