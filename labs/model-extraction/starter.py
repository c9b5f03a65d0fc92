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

import numpy as np
import torch

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
# TODO: choose which inputs to query, query them, and train the surrogate on the answers.
surrogate = Surrogate()  # untrained: runs, but agrees with the victim by chance only
torch.save(surrogate.state_dict(), "surrogate.pt")

# %%
# TODO: craft adversarial examples on your surrogate (L-infinity <= 0.15, values in [0, 1]).
adv_transfer = x_attack.copy()
np.save("adv_transfer.npy", adv_transfer.astype(np.float32), allow_pickle=False)
