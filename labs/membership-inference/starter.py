# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Membership inference against an overfit model
#
# Decide, for each of 1,000 candidate records, how likely it is that your target model was
# trained on it. Read the brief first. `LAB` is defined for you before this code runs:
# `LAB["assets"]` is the read-only folder with the targets and the data, and
# `LAB["target_model"]` is the index of **your** target.

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_target, logits, train_model

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
TARGET = int(LAB["target_model"])

target = load_target(ASSETS / f"target_{TARGET:02d}.pt")
x_candidates = np.load(ASSETS / "x_candidates.npy")[TARGET]  # float32 (1000, 40)
y_candidates = np.load(ASSETS / "y_candidates.npy")[TARGET]  # int64 (1000,)
x_population = np.load(ASSETS / "x_population.npy")  # float32 (8000, 40), never trained on
y_population = np.load(ASSETS / "y_population.npy")
print(f"target {TARGET}: {len(x_candidates)} candidates, half of them members")


# %%
def membership_scores(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One score per candidate from the target's logits z (N, 4): higher means 'member'."""
    # TODO: your attack. A constant score runs, but scores nothing (AUC 0.5).
    return np.zeros(len(labels))


# %%
def self_check(scores: np.ndarray) -> None:
    """Without membership you cannot measure AUC here; check the population side instead:
    records that are certainly non-members should not score like the top candidates."""
    z_pop = logits(target, x_population[:1000])
    pop = membership_scores(z_pop, y_population[:1000])
    print(
        f"candidates above the population's 99th percentile: {(scores > np.quantile(pop, 0.99)).mean():.3f}"
    )


scores = membership_scores(logits(target, x_candidates), y_candidates).astype(np.float64)
np.save("scores.npy", scores, allow_pickle=False)
self_check(scores)

# %% [markdown]
# ## Your attack's ROC curve, on a shadow model
#
# You cannot draw the ROC curve on your target (membership is hidden), but you can on a
# *shadow* model that you train yourself, with the targets' recipe, on population records
# whose membership you know. The grader scores the area under this curve (AUC) and the
# true-positive rate at a 1% false-positive rate, measured on your target.

# %%
x_shadow, y_shadow = x_population[1000:2000], y_population[1000:2000]
shadow = train_model(x_shadow[:500], y_shadow[:500], seed=1)  # members: the first 500
shadow_members = np.r_[np.ones(500), np.zeros(500)]
shadow_scores = membership_scores(logits(shadow, x_shadow), y_shadow)
fpr, tpr, _ = roc_curve(shadow_members, shadow_scores)
fig, ax = plt.subplots(figsize=(4.2, 4.2))
ax.plot(fpr, tpr, label=f"your attack, AUC {roc_auc_score(shadow_members, shadow_scores):.3f}")
ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="guessing")
ax.axvline(0.01, color="tab:red", linestyle=":", label="1% false positives")
ax.set_xlabel("false-positive rate")
ax.set_ylabel("true-positive rate")
ax.set_title("Membership inference on your shadow model")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()
