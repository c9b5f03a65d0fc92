"""Reference solution: numpy's Laplace sampler from an OS-seeded generator; clip, then release."""

import numpy as np

_rng = np.random.default_rng()  # seeded from the OS: unpredictable, fresh in every process


def laplace_mechanism(true_answer, sensitivity, epsilon):
    """true_answer + Laplace(0, sensitivity / epsilon) noise, independently per element."""
    if sensitivity <= 0 or epsilon <= 0:
        raise ValueError("sensitivity and epsilon must be positive")
    answer = np.asarray(true_answer, dtype=np.float64)
    return answer + _rng.laplace(0.0, sensitivity / epsilon, size=answer.shape)


def private_mean(values, lower, upper, epsilon):
    """epsilon-DP mean of values clipped to [lower, upper] (n is public)."""
    values = np.clip(np.asarray(values, dtype=np.float64), lower, upper)
    sensitivity = (upper - lower) / len(values)
    return float(laplace_mechanism(values.mean(), sensitivity, epsilon))


if __name__ == "__main__":
    print(laplace_mechanism(np.zeros(3), 1.0, 1.0), private_mean(np.arange(10.0), 0.0, 5.0, 1.0))
