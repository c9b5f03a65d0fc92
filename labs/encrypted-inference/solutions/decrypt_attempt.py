# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# A learner who tries to decrypt the inputs to compute in the clear: the context handed over
# holds no secret key, so decrypt() raises and both tiers fail.
import numpy as np
import tenseal as ts

WEIGHTS = np.load(f"{LAB['assets']}/weights.npy")
BIAS = np.load(f"{LAB['assets']}/bias.npy")


def encrypted_logits(public_context, encrypted_inputs):
    context = ts.context_from(public_context, n_threads=1)
    results = []
    for data in encrypted_inputs:
        x = np.array(ts.ckks_vector_from(context, data).decrypt())
        results.append(ts.ckks_vector(context, (x @ WEIGHTS + BIAS).tolist()).serialize())
    return results


def encrypted_logits_packed(public_context, encrypted_features):
    context = ts.context_from(public_context, n_threads=1)
    x = np.array([ts.ckks_vector_from(context, data).decrypt() for data in encrypted_features]).T
    logits = x @ WEIGHTS + BIAS
    return [ts.ckks_vector(context, logits[:, k].tolist()).serialize() for k in range(logits.shape[1])]
