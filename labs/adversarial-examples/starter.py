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
