# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# Naive solution: FedAvg right, pairwise masks that cancel, but (1) the mask depends on the
# pair key only, so the same mask is reused in every round (two rounds' masked updates
# subtract to the difference of the true updates), and (2) a dropped client is ignored, so
# its partners' masks never cancel.
import hashlib
import sys

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])
from fedlab import DigitMLP, decode, encode, get_vector, set_vector

torch.set_num_threads(1)


def local_update(weights, x, y):
    model = set_vector(DigitMLP(), weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    xs, ys = (
        torch.from_numpy(np.asarray(x, dtype=np.float32)),
        torch.from_numpy(np.asarray(y, dtype=np.int64)),
    )
    for _ in range(2):
        order = torch.randperm(len(xs))
        for start in range(0, len(xs), 16):
            batch = order[start : start + 16]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    return get_vector(model)


def pair_mask(key, size):
    seed = int.from_bytes(hashlib.sha256(bytes(key)).digest()[:8], "little")
    return np.random.default_rng(seed).integers(0, 2**32, size=size, dtype=np.uint32)


def mask_update(update, client_id, pair_keys, round_index):
    masked = encode(update)
    for peer, key in pair_keys:
        mask = pair_mask(key, masked.size)
        masked = masked + mask if client_id < peer else masked - mask
    return masked


def unmask_aggregate(masked, client_ids, dropped, revealed_keys, round_index):
    total = np.zeros(len(masked[0]), dtype=np.uint32)
    for vector in masked:
        total = total + np.asarray(vector, dtype=np.uint32)
    return decode(total) / len(client_ids)
