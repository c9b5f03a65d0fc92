# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Train under a differential-privacy budget with DP-SGD
#
# Choose a DP-SGD configuration that keeps epsilon within **your** budget
# (`LAB["epsilon_budget"]`, at delta 1e-5) and still gives a useful model. The grader trains it
# itself with Opacus and computes epsilon itself. Read the brief first.

# %%
import json
import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import DELTA, check_config, predict_logits, train_dp

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
BUDGET = float(LAB["epsilon_budget"])
x_train, y_train = np.load(ASSETS / "x_train.npy"), np.load(ASSETS / "y_train.npy")
x_val, y_val = np.load(ASSETS / "x_val.npy"), np.load(ASSETS / "y_val.npy")
print(f"budget: epsilon <= {BUDGET} at delta {DELTA}; {len(x_train)} training records")

# %%
# TODO: choose the configuration. noise_multiplier 0 trains without noise: epsilon is
# infinite and the grader awards nothing.
config = {
    "noise_multiplier": 0.0,
    "max_grad_norm": 1.0,
    "batch_size": 250,
    "epochs": 30,
    "lr": 1.0,
    "momentum": 0.0,
}

# %%
problem = check_config(config, len(x_train))
print("config problem:", problem)
if problem is None:
    model, epsilon = train_dp(config, x_train, y_train, seed=0)
    accuracy = (predict_logits(model, x_val).argmax(axis=1) == y_val).mean()
    print(f"your estimate: epsilon {epsilon:.3f} (budget {BUDGET}), validation accuracy {accuracy:.3f}")
with open("dp_config.json", "w") as f:
    json.dump(config, f)

# %% [markdown]
# ## Privacy against accuracy
#
# The same configuration trained at a few noise multipliers (each point is one training run,
# so this cell takes a few seconds each): more noise buys a smaller epsilon and costs
# accuracy. Your configuration is the star; the dashed line is your budget.

# %%
NOISE_SWEEP = [0.6, 1.0, 2.0]  # shorten this list if your configuration trains slowly
sweep = []
if problem is None:
    for noise in NOISE_SWEEP:
        sweep_model, sweep_epsilon = train_dp({**config, "noise_multiplier": noise}, x_train, y_train, seed=0)
        sweep.append((sweep_epsilon, (predict_logits(sweep_model, x_val).argmax(axis=1) == y_val).mean()))
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(
        [e for e, _ in sweep],
        [a for _, a in sweep],
        marker="o",
        label="noise " + ", ".join(map(str, NOISE_SWEEP)),
    )
    if math.isfinite(epsilon):
        ax.plot([epsilon], [accuracy], marker="*", markersize=14, linestyle="", label="your configuration")
    else:
        ax.set_title("your configuration has no noise: epsilon is infinite", fontsize=9)
    ax.axvline(BUDGET, color="tab:red", linestyle="--", label=f"budget {BUDGET}")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"epsilon at delta {DELTA} (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
