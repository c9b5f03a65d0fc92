"""Per-learner variant of the federated-secure-aggregation lab: the federation itself.

Pure Python (no torch): the web and worker processes load it by file path. Every learner
gets their own number of clients and their own non-IID split of the digit classes.
"""


def variant(seed: int) -> dict:
    """num_clients in {8, 10, 12}; partition_seed picks which two classes each client holds."""
    return {"num_clients": 8 + 2 * (seed % 3), "partition_seed": 1000 + (seed * 7919) % 90000}
