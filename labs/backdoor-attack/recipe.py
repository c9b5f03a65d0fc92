"""Deterministic asset recipe of the backdoor-attack lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded). Writes:
public/  model.py, x_train.npy, y_train.npy, x_val.npy, y_val.npy, README.txt
hidden/  x_train.npy, y_train.npy (the grader's own copies), x_test.npy, y_test.npy, meta.json
The learner's validation images are half of the held-out split; the grader tests on the
other half, which the learner never sees.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 20250402


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=SEED + 1
    )
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for out in (public_dir, hidden_dir):
        save_npy(out / "x_train.npy", x_train)
        save_npy(out / "y_train.npy", y_train)
    save_npy(public_dir / "x_val.npy", x_val)
    save_npy(public_dir / "y_val.npy", y_val)
    save_npy(hidden_dir / "x_test.npy", x_test)
    save_npy(hidden_dir / "y_test.npy", y_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Plant a backdoor through poisoned training data'.\n"
        "model.py     DigitCNN, apply_trigger(images, trigger), predict(model, x),\n"
        "             train_model(x, y, seed): exactly what the grader runs\n"
        f"x_train.npy  float32 (N, 1, 8, 8) in [0, 1], N = {len(x_train)}: the training set you poison\n"
        "y_train.npy  int64 (N,): its labels\n"
        f"x_val.npy    float32 ({len(x_val)}, 1, 8, 8), y_val.npy: images to rehearse on\n"
        "The grader measures on its own held-out test images.\n"
    )
    meta = {"seed": SEED, "train_size": len(x_train), "val_size": len(x_val), "test_size": len(x_test)}
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
