"""Reading the learner's copy of a poison-forensics set: shared by the starter and the grader.

The learner's set is prebuilt set LAB["dataset"], its rows put in the order of the
permutation drawn from LAB["shuffle_seed"]: row i of the learner's set is base row order[i].
"""

import numpy as np

N_TRAIN = 1257


def learner_order(shuffle_seed: int, n: int = N_TRAIN) -> np.ndarray:
    """Row i of the learner's set is row order[i] of the prebuilt set."""
    return np.random.default_rng(shuffle_seed).permutation(n)


def load_learner_set(assets_dir, dataset: int, shuffle_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images float32 (N, 1, 8, 8) in [0, 1] and labels int64 (N,), as handed out."""
    from pathlib import Path

    assets = Path(assets_dir)
    levels = np.load(assets / "x_sets.npy", mmap_mode="r")[dataset]  # uint8 ink levels 0..16
    labels = np.load(assets / "y_sets.npy", mmap_mode="r")[dataset]
    order = learner_order(shuffle_seed, len(labels))
    x = (np.asarray(levels)[order].astype(np.float32) / 16.0)[:, None, :, :]
    return x, np.asarray(labels)[order].astype(np.int64)
