"""Deterministic asset recipe of the api-hardening lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (sandbox runtime, one thread).
Fits a logistic-regression digit classifier on scikit-learn's bundled digits (nothing is
downloaded) and writes:
public/  model.py, coef.npy, intercept.npy, examples.json (a few valid rows), README.txt
hidden/  coef.npy, intercept.npy, benign_rows.npy (held-out test rows the grader's benign
         traffic is drawn from), meta.json
"""

import shutil
from pathlib import Path

import numpy as np

from _shared.recipes import finish, fit_logistic, raw_digits, run, save_arrays, split, write_json

HERE = Path(__file__).resolve().parent

SEED = 20250611


def main(public_dir: Path, hidden_dir: Path) -> None:
    x_train, x_test, y_train, y_test = split(*raw_digits(), SEED)  # features: ink levels 0..16
    model = fit_logistic(x_train / 16.0, y_train)
    coef = np.ascontiguousarray(model.coef_, dtype=np.float64)
    intercept = np.ascontiguousarray(model.intercept_, dtype=np.float64)
    accuracy = float((model.predict(x_test / 16.0) == y_test).mean())
    for out in (public_dir, hidden_dir):
        save_arrays(out, coef=coef, intercept=intercept)
    save_arrays(hidden_dir, benign_rows=x_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    examples = {
        "features": [[int(v) for v in row] for row in x_train[:3]],
        "labels": [int(v) for v in y_train[:3]],
    }
    write_json(public_dir / "examples.json", examples, indent=None, sort_keys=False)
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Harden an ML inference API'.\n"
        "model.py        DigitModel and load_model(folder): logistic regression on 8x8 digits\n"
        "coef.npy        float64 (10, 64) weights; intercept.npy float64 (10,)\n"
        "examples.json   three valid rows (64 integers in 0..16) and their labels\n"
    )
    meta = {"seed": SEED, "test_accuracy": round(accuracy, 4), "benign_pool": len(x_test)}
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
