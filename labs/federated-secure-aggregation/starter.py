# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Federated averaging with secure aggregation
#
# Write three functions: `local_update` (a client's training step of FedAvg),
# `mask_update` (a client hides its update behind pairwise masks) and `unmask_aggregate`
# (the server recovers the average, also when a client dropped out). Read the brief first.
# The grader imports your code and calls these functions itself: keep the names and
# signatures, and put demo code under `if __name__ == "__main__":`.
# `LAB["assets"]` is the read-only folder with `fedlab.py` and the data;
# `LAB["num_clients"]` and `LAB["partition_seed"]` describe **your** federation.

# %%
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # fedlab.py lives in the read-only assets folder
from fedlab import (
    NUM_PARAMETERS,
    DigitMLP,
    accuracy,
    client_split,
    decode,
    encode,
    fedavg_round,
    get_vector,
    initial_weights,
    set_vector,
)

torch.set_num_threads(1)


# %%
def local_update(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One client's part of a FedAvg round.

    weights: float32 (NUM_PARAMETERS,), the global model; x: float32 (n, 64); y: int64 (n,).
    Return the client's new weights, float32 (NUM_PARAMETERS,), after local training.
    """
    model = set_vector(DigitMLP(), weights)
    # TODO: a few epochs of SGD on (x, y), starting from the global weights.
    return get_vector(model)


def mask_update(update: np.ndarray, client_id: int, pair_keys: list, round_index: int) -> np.ndarray:
    """Client side of secure aggregation.

    update: float (NUM_PARAMETERS,); pair_keys: list of (peer_id, key) with a 32-byte key per peer.
    Return uint32 (NUM_PARAMETERS,): encode(update) plus/minus one pairwise mask per peer, mod 2**32.
    """
    # TODO: pairwise masks from each key AND the round; + when client_id < peer_id, - otherwise.
    return np.zeros(NUM_PARAMETERS, dtype=np.uint32)


def unmask_aggregate(
    masked: list, client_ids: list, dropped: list, revealed_keys: list, round_index: int
) -> np.ndarray:
    """Server side: the average of the surviving clients' updates, float (NUM_PARAMETERS,).

    masked[k] is client client_ids[k]'s uint32 vector; dropped lists clients that never sent
    theirs; revealed_keys holds (survivor_id, dropped_id, key) for every such pair.
    """
    # TODO: sum mod 2**32, remove the masks left by dropped clients, decode, divide.
    return np.zeros(NUM_PARAMETERS, dtype=np.float64)


# %%
if __name__ == "__main__":
    assets = LAB["assets"]
    x_train, y_train = np.load(f"{assets}/x_train.npy"), np.load(f"{assets}/y_train.npy")
    x_val, y_val = np.load(f"{assets}/x_val.npy"), np.load(f"{assets}/y_val.npy")
    parts = client_split(y_train, LAB["num_clients"], LAB["partition_seed"])
    clients = [(x_train[p], y_train[p]) for p in parts]
    print("classes per client:", [sorted(set(y_train[p].tolist())) for p in parts])

    weights = initial_weights(0)
    for _ in range(10):
        weights = fedavg_round(weights, clients, local_update)
    print(f"FedAvg, 10 rounds: validation accuracy {accuracy(weights, x_val, y_val):.3f}")

    # Your own secure-aggregation check: random updates and pair keys, as the grader does.
    rng = np.random.default_rng(0)
    ids = list(range(LAB["num_clients"]))
    keys = {(i, j): os.urandom(32) for i in ids for j in ids if i < j}
    updates = rng.normal(0, 0.05, size=(len(ids), NUM_PARAMETERS))

    def keys_of(i):
        return [(j, keys[min(i, j), max(i, j)]) for j in ids if j != i]

    masked = [mask_update(updates[i], i, keys_of(i), 1) for i in ids]
    error = np.abs(unmask_aggregate(masked, ids, [], [], 1) - updates.mean(0)).max()
    print(f"secure aggregation, all clients: largest error {error:.2e}")
    gone, alive = ids[-1], ids[:-1]
    revealed = [(i, gone, keys[min(i, gone), max(i, gone)]) for i in alive]
    average = unmask_aggregate(masked[:-1], alive, [gone], revealed, 1)
    dropped_error = np.abs(average - updates[:-1].mean(0)).max()
    print(f"secure aggregation, one dropped: largest error {dropped_error:.2e}")
    report = {
        "val_accuracy": accuracy(weights, x_val, y_val),
        "sum_error": float(error),
        "dropout_error": float(dropped_error),
    }
    with open("selfcheck.json", "w") as handle:  # optional, not scored
        json.dump(report, handle)
    print("plain encode/decode round trip:", np.abs(decode(encode(updates[0])) - updates[0]).max())
