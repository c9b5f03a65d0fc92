# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Craft adversarial examples
#
# Perturb the evaluation digits so that the victim CNN misclassifies them: untargeted at
# epsilon 0.1, then targeted at epsilon 0.3. Read the brief first. `LAB` is defined for you
# before this code runs: `LAB["assets"]` is the read-only folder with the victim and the data,
# `LAB["target_offset"]` is your target offset.

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_victim

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
TARGET_OFFSET = int(LAB["target_offset"])

victim = load_victim(ASSETS / "victim.pt")
x_eval = np.load(ASSETS / "x_eval.npy")  # float32 (N, 1, 8, 8), pixels in [0, 1]
y_eval = np.load(ASSETS / "y_eval.npy")  # int64 (N,), all classified correctly
EPS_UNTARGETED = 0.1
EPS_TARGETED = 0.3
print(f"{len(x_eval)} images; targeted attack aims at (y + {TARGET_OFFSET}) % 10")


# %%
def untargeted_attack(x: np.ndarray, y: np.ndarray, epsilon: float) -> np.ndarray:
    """Return images within epsilon (L-infinity) of x that the victim misclassifies."""
    # TODO: your attack. Returning x unchanged runs, but scores nothing.
    return x.copy()


def targeted_attack(x: np.ndarray, target: np.ndarray, epsilon: float) -> np.ndarray:
    """Return images within epsilon of x that the victim classifies as `target`."""
    # TODO: your attack.
    return x.copy()


# %%
def success_rates(adv_untargeted: np.ndarray, adv_targeted: np.ndarray) -> tuple[float, float]:
    """Your own estimate; the grader recomputes everything itself."""
    with torch.no_grad():
        pred_u = victim(torch.from_numpy(adv_untargeted)).argmax(1).numpy()
        pred_t = victim(torch.from_numpy(adv_targeted)).argmax(1).numpy()
    target = (y_eval + TARGET_OFFSET) % 10
    return float((pred_u != y_eval).mean()), float((pred_t == target).mean())


adv_untargeted = np.clip(untargeted_attack(x_eval, y_eval, EPS_UNTARGETED), 0.0, 1.0)
adv_targeted = np.clip(targeted_attack(x_eval, (y_eval + TARGET_OFFSET) % 10, EPS_TARGETED), 0.0, 1.0)
np.save("adv_untargeted.npy", adv_untargeted.astype(np.float32), allow_pickle=False)
np.save("adv_targeted.npy", adv_targeted.astype(np.float32), allow_pickle=False)
rate_untargeted, rate_targeted = success_rates(adv_untargeted, adv_targeted)
print(f"your estimate: untargeted {rate_untargeted:.3f}, targeted {rate_targeted:.3f}")

# %% [markdown]
# ## Look at your adversarial examples
#
# For a few evaluation digits: the original (top), your perturbation (middle: red adds ink,
# blue removes it, full colour is the whole epsilon) and the adversarial digit the victim sees
# (bottom), titled with its prediction (red when your attack reached its goal).


# %%
def show_examples(adv: np.ndarray, epsilon: float, goal: np.ndarray | None, title: str, count: int = 6):
    """A 3 x count grid: original, perturbation, adversarial; `goal` is the target class, if any."""
    with torch.no_grad():
        pred = victim(torch.from_numpy(adv[:count])).argmax(1).numpy()
    fig, axes = plt.subplots(3, count, figsize=(1.5 * count, 4.8), squeeze=False)
    for i in range(count):
        reached = pred[i] == goal[i] if goal is not None else pred[i] != y_eval[i]
        axes[0, i].imshow(x_eval[i, 0], cmap="gray_r", vmin=0.0, vmax=1.0)
        axes[0, i].set_title(f"digit {y_eval[i]}" if goal is None else f"{y_eval[i]} → {goal[i]}", fontsize=9)
        axes[1, i].imshow(adv[i, 0] - x_eval[i, 0], cmap="RdBu_r", vmin=-epsilon, vmax=epsilon)
        axes[2, i].imshow(adv[i, 0], cmap="gray_r", vmin=0.0, vmax=1.0)
        axes[2, i].set_title(f"predicted {pred[i]}", fontsize=9, color="tab:red" if reached else "black")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for row, name in enumerate(("original", "perturbation", "adversarial")):
        axes[row, 0].set_ylabel(name)
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


show_examples(adv_untargeted, EPS_UNTARGETED, None, f"Untargeted, epsilon {EPS_UNTARGETED}")
show_examples(adv_targeted, EPS_TARGETED, (y_eval + TARGET_OFFSET) % 10, f"Targeted, epsilon {EPS_TARGETED}")
