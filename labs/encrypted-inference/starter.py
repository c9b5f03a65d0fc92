# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Encrypted inference with homomorphic encryption
#
# Evaluate a linear digit classifier on inputs you cannot read: they arrive encrypted with
# CKKS (TenSEAL, Microsoft SEAL), together with a **public** context that holds no secret
# key. Return the encrypted logits; only the key owner (the grader) can decrypt them.
# Read the brief first. The grader imports your code and calls `encrypted_logits` and
# `encrypted_logits_packed` itself: keep the names and signatures, and put demo code under
# `if __name__ == "__main__":`.

# %%
import json
import sys

import numpy as np
import tenseal as ts

sys.path.insert(0, LAB["assets"])  # heparams.py lives in the read-only assets folder
from heparams import make_context, public_bytes

WEIGHTS = np.load(f"{LAB['assets']}/weights.npy")  # float64 (64, 10)
BIAS = np.load(f"{LAB['assets']}/bias.npy")  # float64 (10,): logits = x @ WEIGHTS + BIAS


# %%
def encrypted_logits(public_context: bytes, encrypted_inputs: list) -> list:
    """encrypted_inputs[i]: a serialized CKKS vector of one digit's 64 pixels.

    Return one serialized CKKS vector of its 10 logits per input, in the same order.
    """
    context = ts.context_from(public_context, n_threads=1)
    results = []
    for data in encrypted_inputs:
        x = ts.ckks_vector_from(context, data)
        # TODO: compute x @ WEIGHTS + BIAS on the ciphertext.
        results.append(x.serialize())
    return results


def encrypted_logits_packed(public_context: bytes, encrypted_features: list) -> list:
    """encrypted_features[j]: a serialized CKKS vector holding feature j of every digit (one slot each).

    Return 10 serialized CKKS vectors: vector k holds logit k of every digit, slot by slot.
    """
    context = ts.context_from(public_context, n_threads=1)
    columns = [ts.ckks_vector_from(context, data) for data in encrypted_features]
    # TODO: logit k = sum over j of WEIGHTS[j, k] * feature j, plus BIAS[k].
    return [column.serialize() for column in columns[:10]]


# %%
if __name__ == "__main__":
    # Test with a key pair of your own (the grader makes its own and never shows you its key).
    secret = make_context()
    public = public_bytes(secret)  # what your functions get: no secret key in it
    print("public context can decrypt:", ts.context_from(public).has_secret_key())
    x = np.load(f"{LAB['assets']}/x_sample.npy")
    expected = x @ WEIGHTS + BIAS

    encrypted = [ts.ckks_vector(secret, row.tolist()).serialize() for row in x[:4]]
    got = [ts.ckks_vector_from(secret, r).decrypt()[:10] for r in encrypted_logits(public, encrypted)]
    vector_error = float(np.abs(np.array(got) - expected[:4]).max())

    columns = [ts.ckks_vector(secret, x[:, j].tolist()).serialize() for j in range(x.shape[1])]
    packed = encrypted_logits_packed(public, columns)
    got = np.array([ts.ckks_vector_from(secret, r).decrypt() for r in packed]).T
    packed_error = float(np.abs(got - expected).max())
    print(f"largest error: one-by-one {vector_error:.2e}, packed {packed_error:.2e} (tolerance 1e-2)")
    with open("selfcheck.json", "w") as handle:  # optional, not scored
        json.dump({"vector_max_error": vector_error, "packed_max_error": packed_error}, handle)
