"""Deterministic asset recipe of the encrypted-inference lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Trains a multinomial logistic regression on scikit-learn's bundled digits (nothing is
downloaded) and writes:
public/  heparams.py, weights.npy (64, 10), bias.npy (10,), x_sample.npy, y_sample.npy, README.txt
hidden/  weights.npy, bias.npy (the grader's own copies), x_test.npy, y_test.npy (the inputs
         the grader encrypts are drawn from these), meta.json
No key material is stored anywhere: the grader makes a fresh CKKS key pair for every grading.
Same inputs give bit-identical files.
"""

import shutil
from pathlib import Path

import numpy as np

from _shared.recipes import finish, fit_logistic, raw_digits, run, save_arrays, split

HERE = Path(__file__).resolve().parent

SEED = 20250612
SAMPLE_SIZE = 32


def main(public_dir: Path, hidden_dir: Path) -> None:
    x, y = raw_digits()
    x_train, x_test, y_train, y_test = split(x / 16.0, y, SEED)
    model = fit_logistic(x_train, y_train)
    weights = np.ascontiguousarray(model.coef_.T, dtype=np.float64)  # logits = x @ weights + bias
    bias = np.ascontiguousarray(model.intercept_, dtype=np.float64)
    accuracy = float(((x_test @ weights + bias).argmax(1) == y_test).mean())
    for out in (public_dir, hidden_dir):
        save_arrays(out, weights=weights, bias=bias)
    save_arrays(public_dir, x_sample=x_train[:SAMPLE_SIZE], y_sample=y_train[:SAMPLE_SIZE])
    save_arrays(hidden_dir, x_test=x_test, y_test=y_test)
    shutil.copyfile(HERE / "heparams.py", public_dir / "heparams.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Encrypted inference with homomorphic encryption'.\n"
        "heparams.py   CKKS parameters; make_context() (with a secret key, for your tests), public_bytes()\n"
        "weights.npy   float64 (64, 10) and bias.npy float64 (10,): logits = x @ weights + bias\n"
        f"x_sample.npy  float64 ({SAMPLE_SIZE}, 64) in [0, 1]: test digits; y_sample.npy: labels\n"
    )
    meta = {"seed": SEED, "test_accuracy": round(accuracy, 4), "test_size": len(x_test)}
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
