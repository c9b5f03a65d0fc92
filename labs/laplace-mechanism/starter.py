# %% [markdown]
# # Implement the Laplace mechanism
#
# Write two functions at the top level of your code: `laplace_mechanism` and `private_mean`.
# The grader calls them thousands of times in a separate process and tests them
# statistically. Read the brief first. Keep any demo code under
# `if __name__ == "__main__":` (the grader loads your code as a module named `submission`).

# %%
import numpy as np


def laplace_mechanism(true_answer, sensitivity, epsilon):
    """Return true_answer + independent Laplace(0, sensitivity / epsilon) noise per element."""
    answer = np.asarray(true_answer, dtype=np.float64)
    # TODO: add the noise. Returning the true answer runs, but releases it exactly.
    return answer.copy()


def private_mean(values, lower, upper, epsilon):
    """epsilon-DP mean of values: clip to [lower, upper], then the Laplace mechanism."""
    values = np.asarray(values, dtype=np.float64)
    # TODO: clip, find the sensitivity of the mean, release it with laplace_mechanism.
    return float(values.mean())


# %%
if __name__ == "__main__":
    noisy = laplace_mechanism(np.zeros(100_000), sensitivity=1.0, epsilon=0.5)
    print("mean |noise| (should be about 2.0):", np.abs(noisy).mean())
    data = np.concatenate([np.random.default_rng().uniform(0, 10, 95), [1e6] * 5])
    print("private mean (should be about 5, never about 50,000):", private_mean(data, 0.0, 10.0, 1.0))
