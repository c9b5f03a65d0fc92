# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# Reference solution: local SGD from the global weights; pairwise masks from a ChaCha20
# keystream (the `cryptography` package) keyed by the pair key, fresh for every round;
# dropped clients' orphaned masks removed with the keys the survivors reveal.
import json
import os
import sys

import numpy as np
import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

sys.path.insert(0, LAB["assets"])
from fedlab import DigitMLP, decode, encode, get_vector, set_vector

torch.set_num_threads(1)
EPOCHS, LEARNING_RATE, BATCH_SIZE = 2, 0.1, 16


def local_update(weights, x, y):
    model = set_vector(DigitMLP(), weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    xs, ys = (
        torch.from_numpy(np.asarray(x, dtype=np.float32)),
        torch.from_numpy(np.asarray(y, dtype=np.int64)),
    )
    for _ in range(EPOCHS):
        order = torch.randperm(len(xs))
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    return get_vector(model)


def prg_mask(key, round_index, size):
    """size uint32 values of the ChaCha20 keystream of (key, round): fresh per round and pair."""
    nonce = (0).to_bytes(4, "little") + int(round_index).to_bytes(12, "little")
    stream = Cipher(algorithms.ChaCha20(bytes(key), nonce), mode=None).encryptor().update(bytes(4 * size))
    return np.frombuffer(stream, dtype="<u4").astype(np.uint32)


def mask_update(update, client_id, pair_keys, round_index):
    masked = encode(update)
    for peer, key in pair_keys:
        mask = prg_mask(key, round_index, masked.size)
        masked = masked + mask if client_id < peer else masked - mask  # uint32 wraps mod 2**32
    return masked


def unmask_aggregate(masked, client_ids, dropped, revealed_keys, round_index):
    total = np.zeros(len(masked[0]), dtype=np.uint32)
    for vector in masked:
        total = total + np.asarray(vector, dtype=np.uint32)
    for survivor, gone, key in revealed_keys:  # masks the dropped client never cancelled
        mask = prg_mask(key, round_index, total.size)
        total = total - mask if survivor < gone else total + mask
    return decode(total) / len(client_ids)


if __name__ == "__main__":
    from fedlab import accuracy, client_split, fedavg_round, initial_weights

    x_train, y_train = np.load(f"{LAB['assets']}/x_train.npy"), np.load(f"{LAB['assets']}/y_train.npy")
    x_val, y_val = np.load(f"{LAB['assets']}/x_val.npy"), np.load(f"{LAB['assets']}/y_val.npy")
    parts = client_split(y_train, LAB["num_clients"], LAB["partition_seed"])
    clients = [(x_train[p], y_train[p]) for p in parts]
    weights = initial_weights(0)
    for _ in range(10):
        weights = fedavg_round(weights, clients, local_update)
    print(f"FedAvg, 10 rounds: validation accuracy {accuracy(weights, x_val, y_val):.3f}")

    rng = np.random.default_rng(0)
    ids = list(range(LAB["num_clients"]))
    keys = {(i, j): os.urandom(32) for i in ids for j in ids if i < j}
    updates = rng.normal(0, 0.05, size=(len(ids), 2410))

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
