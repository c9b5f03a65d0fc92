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

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 20250612
SAMPLE_SIZE = 32


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x_train, y_train)
    weights = np.ascontiguousarray(model.coef_.T, dtype=np.float64)  # logits = x @ weights + bias
    bias = np.ascontiguousarray(model.intercept_, dtype=np.float64)
    accuracy = float(((x_test @ weights + bias).argmax(1) == y_test).mean())
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for out in (public_dir, hidden_dir):
        save_npy(out / "weights.npy", weights)
        save_npy(out / "bias.npy", bias)
    save_npy(public_dir / "x_sample.npy", np.ascontiguousarray(x_train[:SAMPLE_SIZE]))
    save_npy(public_dir / "y_sample.npy", np.ascontiguousarray(y_train[:SAMPLE_SIZE]))
    save_npy(hidden_dir / "x_test.npy", np.ascontiguousarray(x_test))
    save_npy(hidden_dir / "y_test.npy", np.ascontiguousarray(y_test))
    shutil.copyfile(HERE / "heparams.py", public_dir / "heparams.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Encrypted inference with homomorphic encryption'.\n"
        "heparams.py   CKKS parameters; make_context() (with a secret key, for your tests), public_bytes()\n"
        "weights.npy   float64 (64, 10) and bias.npy float64 (10,): logits = x @ weights + bias\n"
        f"x_sample.npy  float64 ({SAMPLE_SIZE}, 64) in [0, 1]: test digits; y_sample.npy: labels\n"
    )
    meta = {"seed": SEED, "test_accuracy": round(accuracy, 4), "test_size": len(x_test)}
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
