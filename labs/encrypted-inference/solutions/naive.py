# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# Naive solution: the one-by-one product is right, but the packed version forgets the bias,
# so every decrypted logit of the batch is off by bias[k].
import json
import sys

import numpy as np
import tenseal as ts

sys.path.insert(0, LAB["assets"])
from heparams import make_context, public_bytes

WEIGHTS = np.load(f"{LAB['assets']}/weights.npy")  # (64, 10): logits = x @ WEIGHTS + BIAS
BIAS = np.load(f"{LAB['assets']}/bias.npy")


def encrypted_logits(public_context, encrypted_inputs):
    context = ts.context_from(public_context, n_threads=1)
    results = []
    for data in encrypted_inputs:
        x = ts.ckks_vector_from(context, data)
        results.append((x.matmul(WEIGHTS.tolist()) + BIAS.tolist()).serialize())
    return results


def encrypted_logits_packed(public_context, encrypted_features):
    context = ts.context_from(public_context, n_threads=1)
    columns = [ts.ckks_vector_from(context, data) for data in encrypted_features]
    results = []
    for k in range(WEIGHTS.shape[1]):
        total = None
        for j, column in enumerate(columns):
            if WEIGHTS[j, k] == 0.0:
                continue  # the always-blank border pixels: skip a useless product
            term = column * float(WEIGHTS[j, k])
            total = term if total is None else total + term
        results.append(total.serialize())
    return results


if __name__ == "__main__":
    secret = make_context()  # our own key pair, only to test: the grader keeps its own
    public = public_bytes(secret)
    x = np.load(f"{LAB['assets']}/x_sample.npy")
    expected = x @ WEIGHTS + BIAS
    encrypted = [ts.ckks_vector(secret, row.tolist()).serialize() for row in x[:4]]
    got = np.array([ts.ckks_vector_from(secret, r).decrypt() for r in encrypted_logits(public, encrypted)])
    vector_error = float(np.abs(got - expected[:4]).max())
    columns = [ts.ckks_vector(secret, x[:, j].tolist()).serialize() for j in range(x.shape[1])]
    packed = encrypted_logits_packed(public, columns)
    got = np.array([ts.ckks_vector_from(secret, r).decrypt() for r in packed]).T
    packed_error = float(np.abs(got - expected).max())
    print(f"largest error: one-by-one {vector_error:.2e}, packed {packed_error:.2e}")
    with open("selfcheck.json", "w") as handle:  # optional, not scored
        json.dump({"vector_max_error": vector_error, "packed_max_error": packed_error}, handle)
