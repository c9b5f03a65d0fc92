"""Deterministic asset recipe of the dp-sgd-budget lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Generates tabular data with scikit-learn's make_classification (nothing is downloaded) and
trains a non-private baseline of the same MLP (plain Adam, no clipping, no noise) to record
how much it leaks. Writes:
public/  model.py, x_train.npy, y_train.npy (the data the grader trains on), x_val.npy,
         y_val.npy (for tuning), README.txt
hidden/  x_test.npy, y_test.npy (held-out: accuracy and the non-members of the attack),
         meta.json (baseline accuracy and membership AUC)
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from sklearn.datasets import make_classification

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model import N_CLASSES, N_FEATURES, TabularMLP, predict_logits  # noqa: E402 -- lab folder on the path above

SEED = 20241011
N_TRAIN = 1000


def make_data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(
        n_samples=3 * N_TRAIN,
        n_features=N_FEATURES,
        n_informative=15,
        n_redundant=4,
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        flip_y=0.02,
        class_sep=1.5,
        random_state=SEED % (2**31),
    )
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32), y.astype(np.int64)


def nll(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=1)) - logits[np.arange(len(y)), y]


def auc(member: np.ndarray, outside: np.ndarray) -> float:
    """P(member score > non-member score), ties one half."""
    scores = np.concatenate([member, outside])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tie = scores == value
        ranks[tie] = ranks[tie].mean()
    n_in, n_out = len(member), len(outside)
    return float((ranks[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out))


def train_baseline(x: np.ndarray, y: np.ndarray) -> TabularMLP:
    torch.manual_seed(SEED)
    model = TabularMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(200):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), 64):
            batch = order[start : start + 64]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    model.eval()
    return model


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x, y = make_data()
    x_train, y_train = x[:N_TRAIN], y[:N_TRAIN]
    x_val, y_val = x[N_TRAIN : 2 * N_TRAIN], y[N_TRAIN : 2 * N_TRAIN]
    x_test, y_test = x[2 * N_TRAIN :], y[2 * N_TRAIN :]
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    save_npy(public_dir / "x_train.npy", x_train)
    save_npy(public_dir / "y_train.npy", y_train)
    save_npy(public_dir / "x_val.npy", x_val)
    save_npy(public_dir / "y_val.npy", y_val)
    save_npy(hidden_dir / "x_test.npy", x_test)
    save_npy(hidden_dir / "y_test.npy", y_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    baseline = train_baseline(x_train, y_train)
    test_logits = predict_logits(baseline, x_test)
    meta = {
        "seed": SEED,
        "n_train": N_TRAIN,
        "baseline_test_accuracy": round(float((test_logits.argmax(axis=1) == y_test).mean()), 4),
        "baseline_membership_auc": round(
            auc(-nll(predict_logits(baseline, x_train), y_train), -nll(test_logits, y_test)), 4
        ),
        "torch": torch.__version__.split("+")[0],
    }
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Train under a differential-privacy budget with DP-SGD'.\n"
        "model.py     TabularMLP, check_config, train_dp (the grader's exact trainer), predict_logits\n"
        f"x_train.npy  float32 ({N_TRAIN}, {N_FEATURES}): the training set (the grader trains on it)\n"
        "y_train.npy  int64 labels 0..3\n"
        f"x_val.npy    float32 ({N_TRAIN}, {N_FEATURES}), y_val.npy: fresh records to tune and to attack\n"
    )
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
