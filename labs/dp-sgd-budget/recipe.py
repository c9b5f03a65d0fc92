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

import shutil
from pathlib import Path

import numpy as np
import torch
from model import N_CLASSES, N_FEATURES, TabularMLP, predict_logits

from _shared.nets import deterministic, train_classifier
from _shared.recipes import finish, install_shared, run, save_arrays, tabular

HERE = Path(__file__).resolve().parent

SEED = 20241011
N_TRAIN = 1000


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
    return train_classifier(TabularMLP, x, y, seed=SEED, epochs=200)


def main(public_dir: Path, hidden_dir: Path) -> None:
    deterministic()
    x, y = tabular(3 * N_TRAIN, N_FEATURES, N_CLASSES, seed=SEED, flip_y=0.02, class_sep=1.5)
    x_train, y_train = x[:N_TRAIN], y[:N_TRAIN]
    x_val, y_val = x[N_TRAIN : 2 * N_TRAIN], y[N_TRAIN : 2 * N_TRAIN]
    x_test, y_test = x[2 * N_TRAIN :], y[2 * N_TRAIN :]
    save_arrays(public_dir, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
    save_arrays(hidden_dir, x_test=x_test, y_test=y_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    install_shared(public_dir, "nets")
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
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
