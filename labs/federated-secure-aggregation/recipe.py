"""Deterministic asset recipe of the federated-secure-aggregation lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded) and writes:
public/  fedlab.py, x_train.npy, y_train.npy (the federation's data), x_val.npy, y_val.npy
         (a validation set for your own checks), README.txt
hidden/  x_train.npy, y_train.npy (the grader's own copies), x_test.npy, y_test.npy (held
         out: the accuracy of the federated model is measured here), meta.json
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
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 20250611


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=SEED + 1
    )
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for out in (public_dir, hidden_dir):
        save_npy(out / "x_train.npy", np.ascontiguousarray(x_train))
        save_npy(out / "y_train.npy", np.ascontiguousarray(y_train))
    save_npy(public_dir / "x_val.npy", np.ascontiguousarray(x_val))
    save_npy(public_dir / "y_val.npy", np.ascontiguousarray(y_val))
    save_npy(hidden_dir / "x_test.npy", np.ascontiguousarray(x_test))
    save_npy(hidden_dir / "y_test.npy", np.ascontiguousarray(y_test))
    shutil.copyfile(HERE / "fedlab.py", public_dir / "fedlab.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Federated averaging with secure aggregation'.\n"
        "fedlab.py    DigitMLP, get_vector/set_vector, initial_weights, accuracy, client_split,\n"
        "             fedavg_round (plain FedAvg), encode/decode (fixed point mod 2**32)\n"
        f"x_train.npy  float32 ({len(x_train)}, 64) in [0, 1]: the federation's data, split among clients\n"
        "y_train.npy  int64 labels 0..9\n"
        f"x_val.npy    float32 ({len(x_val)}, 64), y_val.npy: validation data for your own checks\n"
    )
    meta = {
        "seed": SEED,
        "train_size": len(x_train),
        "val_size": len(x_val),
        "test_size": len(x_test),
    }
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
