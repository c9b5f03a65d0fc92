"""Naive solution: a correct mechanism, but private_mean forgets to clip. Expected: fails the
clipped-mean tier (mechanism and fresh pass)."""

import numpy as np

_rng = np.random.default_rng()


def laplace_mechanism(true_answer, sensitivity, epsilon):
    answer = np.asarray(true_answer, dtype=np.float64)
    return answer + _rng.laplace(0.0, sensitivity / epsilon, size=answer.shape)


def private_mean(values, lower, upper, epsilon):
    values = np.asarray(values, dtype=np.float64)  # bug: outliers are not clipped
    return float(laplace_mechanism(values.mean(), (upper - lower) / len(values), epsilon))
