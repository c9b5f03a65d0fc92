# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Adversarial training that survives a real evaluation
#
# Train the given DigitCNN so that it stays accurate when every pixel may be moved by up to
# epsilon = 0.1, then hand in its state_dict as `robust_model.pt`. Read the brief first.
# `LAB["assets"]` is the read-only folder with the architecture and the training data;
# `LAB["class_order"]` is **your** output order: output k must mean digit class_order[k].

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import DigitCNN

torch.set_num_threads(1)
torch.manual_seed(0)
ASSETS = Path(LAB["assets"])
CLASS_ORDER = list(LAB["class_order"])
EPSILON = 0.1

x_train = torch.from_numpy(np.load(ASSETS / "x_train.npy"))  # float32 (N, 1, 8, 8) in [0, 1]
digits = np.load(ASSETS / "y_train.npy")  # int64 (N,), digits 0..9
# The label the model must predict for digit d is the index of d in your class order.
y_train = torch.from_numpy(np.array([CLASS_ORDER.index(d) for d in range(10)])[digits])
print(f"{len(x_train)} training images; output k means digit {CLASS_ORDER}[k]")


# %%
def pgd_attack(model, x, y, epsilon, steps):
    """Return images within epsilon (L-infinity) of x that raise the model's loss."""
    # TODO: a random start, then `steps` signed-gradient steps, each projected back onto
    # [x - epsilon, x + epsilon] and [0, 1].
    return x.clone()


def train(model, x, y, epochs):
    """Train the model; for adversarial training, train on pgd_attack(...) batches."""
    # TODO: your training loop. Returning the untrained model runs, but scores nothing.
    return model


# %%
def robust_accuracy(model, x, y, epsilon=EPSILON, steps=20):
    """Your own estimate on held-out images; the grader runs stronger attacks of its own."""
    model.eval()
    adv = pgd_attack(model, x, y, epsilon, steps)
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean()), float(
            (model(adv).argmax(1) == y).float().mean()
        )


model = train(DigitCNN(), x_train[:1000], y_train[:1000], epochs=20)
model.eval()
clean, robust = robust_accuracy(model, x_train[1000:], y_train[1000:])
print(f"your estimate on 257 held-out training images: clean {clean:.3f}, robust {robust:.3f}")
torch.save(model.state_dict(), "robust_model.pt")

# %% [markdown]
# ## Robust accuracy against epsilon
#
# Your model's accuracy on the held-out images under your own PGD attack, for budgets around
# the graded epsilon (dashed). An undefended model falls off a cliff; a robust one degrades
# slowly. The grader attacks harder than this, so treat the curve as an upper bound.

# %%
epsilons = [0.0, 0.05, 0.1, 0.15, 0.2]
accuracies = [
    robust_accuracy(model, x_train[1000:], y_train[1000:], epsilon=e, steps=10)[1] for e in epsilons
]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(epsilons, accuracies, marker="o")
ax.axvline(EPSILON, color="gray", linestyle="--", label=f"graded epsilon {EPSILON}")
ax.set_xlabel("epsilon (L-infinity)")
ax.set_ylabel("accuracy under your PGD")
ax.set_ylim(0.0, 1.02)
ax.legend()
ax.set_title("Robust accuracy against epsilon")
fig.tight_layout()
plt.show()
