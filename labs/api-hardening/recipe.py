"""Deterministic asset recipe of the api-hardening lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (sandbox runtime, one thread).
Fits a logistic-regression digit classifier on scikit-learn's bundled digits (nothing is
downloaded) and writes:
public/  model.py, coef.npy, intercept.npy, examples.json (a few valid rows), README.txt
hidden/  coef.npy, intercept.npy, benign_rows.npy (held-out test rows the grader's benign
         traffic is drawn from), meta.json
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
SEED = 20250611


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    digits = load_digits()
    x = digits.data.astype(np.float64)  # (1797, 64) in 0..16
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED)
    model = LogisticRegression(max_iter=2000, C=1.0)
    model.fit(x_train / 16.0, y_train)
    coef = np.ascontiguousarray(model.coef_, dtype=np.float64)
    intercept = np.ascontiguousarray(model.intercept_, dtype=np.float64)
    accuracy = float((model.predict(x_test / 16.0) == y_test).mean())
    for out in (public_dir, hidden_dir):
        out.mkdir(parents=True, exist_ok=True)
        save_npy(out / "coef.npy", coef)
        save_npy(out / "intercept.npy", intercept)
    save_npy(hidden_dir / "benign_rows.npy", np.ascontiguousarray(x_test, dtype=np.float64))
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    examples = {
        "features": [[int(v) for v in row] for row in x_train[:3]],
        "labels": [int(v) for v in y_train[:3]],
    }
    (public_dir / "examples.json").write_text(json.dumps(examples) + "\n")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Harden an ML inference API'.\n"
        "model.py        DigitModel and load_model(folder): logistic regression on 8x8 digits\n"
        "coef.npy        float64 (10, 64) weights; intercept.npy float64 (10,)\n"
        "examples.json   three valid rows (64 integers in 0..16) and their labels\n"
    )
    meta = {"seed": SEED, "test_accuracy": round(accuracy, 4), "benign_pool": len(x_test)}
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
