# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Steal a model under a query budget
#
# A victim classifier sits behind a metered, label-only oracle. Copy it into a `Surrogate`
# with at most `LAB["query_budget"]` queries, then use your copy for a transfer attack.
# Read the brief first. `LAB` is defined for you before this code runs.

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

sys.path.insert(0, LAB["assets"])  # surrogate.py and oracle_client.py live in the assets
from oracle_client import query, status
from surrogate import Surrogate

torch.set_num_threads(1)
ASSETS = Path(LAB["assets"])
BUDGET = int(LAB["query_budget"])
pool = np.load(ASSETS / "pool.npy")  # float32 (1257, 64): unlabelled readings
x_attack = np.load(ASSETS / "x_attack.npy")[LAB["attack_rows"]]  # YOUR rows to perturb
print(f"pool {pool.shape}, attack rows {x_attack.shape}, budget {BUDGET} queries")

# %%
# Each row you send costs one query; the oracle answers labels only.
labels = query(pool[:5])
print("labels of the first 5 pool rows:", labels, status())

# %%
# TODO: choose which inputs to query and query them (x_queried, y_queried: all you asked).
x_queried, y_queried = pool[:5], labels


def train_surrogate(x: np.ndarray, y: np.ndarray) -> Surrogate:
    """Train a Surrogate on rows x and the oracle's labels y."""
    # TODO: your training loop. Untrained, it runs, but agrees with the victim by chance only.
    return Surrogate()


surrogate = train_surrogate(x_queried, y_queried)
torch.save(surrogate.state_dict(), "surrogate.pt")

# %%
# TODO: craft adversarial examples on your surrogate (L-infinity <= 0.15, values in [0, 1]).
adv_transfer = x_attack.copy()
np.save("adv_transfer.npy", adv_transfer.astype(np.float32), allow_pickle=False)

# %% [markdown]
# ## Agreement against queries
#
# How well does a copy trained on your first k answers agree with the victim on the answers
# you got after them? No new query is spent: the curve reuses what you asked. With the
# starter's 5 queries it says little; with your budget it shows how fast a good choice of
# queries pays off.

# %%
sizes = sorted({max(1, round(f * (len(x_queried) - 1))) for f in (0.1, 0.25, 0.5, 0.75, 1.0)})
agreement = []
for k in sizes:
    copy = train_surrogate(x_queried[:k], y_queried[:k]).eval()
    with torch.no_grad():
        predicted = copy(torch.from_numpy(np.ascontiguousarray(x_queried[k:]))).argmax(1).numpy()
    agreement.append(float((predicted == y_queried[k:]).mean()))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(sizes, agreement, marker="o", label="trained on the first k answers")
ax.axhline(0.1, color="gray", linestyle="--", label="chance (10 classes)")
ax.set_xlabel("queries used for training (k)")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_ylabel("agreement on your later answers")
ax.set_ylim(0.0, 1.02)
ax.set_title("Extraction agreement against queries")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
