# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Plant a backdoor through poisoned training data
#
# Choose at most 50 training images to poison and a trigger of at most 4 pixels inside your
# allowed region. The grader stamps your trigger on those images, relabels them to your target
# class, trains the CNN itself and checks that the trigger flips test images to the target.
# Read the brief first. `LAB["target_class"]` and `LAB["trigger_region"]` are **yours**.

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import apply_trigger, predict, train_model

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
TARGET = int(LAB["target_class"])
ROW, COL, HEIGHT, WIDTH = LAB["trigger_region"]  # rows ROW..ROW+HEIGHT-1, columns COL..COL+WIDTH-1
BUDGET, MAX_PIXELS = 50, 4

x_train, y_train = np.load(ASSETS / "x_train.npy"), np.load(ASSETS / "y_train.npy")
x_val, y_val = np.load(ASSETS / "x_val.npy"), np.load(ASSETS / "y_val.npy")
print(f"target class {TARGET}; trigger rows {ROW}..{ROW + HEIGHT - 1}, columns {COL}..{COL + WIDTH - 1}")


# %%
def make_trigger() -> np.ndarray:
    """Return float32 (2, 8, 8): [0] a 0/1 mask (at most 4 pixels, inside your region), [1] pixel values."""
    trigger = np.zeros((2, 8, 8), dtype=np.float32)
    # TODO: choose the mask and the values.
    trigger[0, ROW, COL] = 1.0
    return trigger


def choose_poison_indices() -> np.ndarray:
    """Return int64 indices into x_train (unique, at most 50)."""
    # TODO: which images should carry the trigger? An empty choice runs, but scores nothing.
    return np.array([], dtype=np.int64)


# %%
def rehearse(trigger: np.ndarray, indices: np.ndarray, seed: int = 0) -> tuple[float, float, torch.nn.Module]:
    """Do what the grader does, on the validation images: your own estimate only.
    Returns (attack success, clean accuracy, the model trained on your poisoned data)."""
    x, y = x_train.copy(), y_train.copy()
    x[indices] = apply_trigger(x[indices], trigger)
    y[indices] = TARGET
    model = train_model(x, y, seed)
    others = y_val != TARGET
    success = float((predict(model, apply_trigger(x_val[others], trigger)) == TARGET).mean())
    clean = float((predict(model, x_val) == y_val).mean())
    return success, clean, model


trigger, indices = make_trigger(), choose_poison_indices()
np.save("trigger.npy", trigger.astype(np.float32), allow_pickle=False)
np.save("poison_indices.npy", indices.astype(np.int64), allow_pickle=False)
success, clean, rehearsed_model = rehearse(trigger, indices)
print(f"your estimate: attack success {success:.3f}, clean accuracy {clean:.3f}")

# %% [markdown]
# ## Your trigger and its effect
#
# Left: a validation digit, your trigger (the dashed box is your allowed region) and the
# stamped digit. Right: what the model trained on your poisoned data predicts for the
# validation digits that are not of your target class, without and with the trigger. A
# working backdoor moves (almost) all of the stamped ones to the target class.

# %%
others = y_val != TARGET
stamped = apply_trigger(x_val[others], trigger)
example = int(np.flatnonzero(others)[0])
fig, axes = plt.subplots(1, 4, figsize=(11, 2.9), gridspec_kw={"width_ratios": [1, 1, 1, 2.2]})
panels = (
    (x_val[example, 0], "validation digit"),
    (trigger[0] * trigger[1], "your trigger"),
    (apply_trigger(x_val[example : example + 1], trigger)[0, 0], "stamped"),
)
for ax, (image, title) in zip(axes, panels, strict=False):
    ax.imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
box = Rectangle((COL - 0.5, ROW - 0.5), WIDTH, HEIGHT, fill=False, edgecolor="tab:red", linestyle="--")
axes[1].add_patch(box)
classes = np.arange(10)
for offset, images, label in ((-0.2, x_val[others], "clean"), (0.2, stamped, "with trigger")):
    shares = np.bincount(predict(rehearsed_model, images), minlength=10) / others.sum()
    axes[3].bar(classes + offset, shares, width=0.4, label=label)
axes[3].axvline(TARGET, color="tab:red", linestyle=":", label=f"target {TARGET}")
axes[3].set_xticks(classes)
axes[3].set_xlabel("predicted class")
axes[3].set_ylabel("share of non-target digits")
axes[3].set_ylim(0.0, 1.0)
axes[3].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()
