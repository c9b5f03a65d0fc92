"""Deterministic asset recipe of the backdoor-attack lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded). Writes:
public/  model.py, x_train.npy, y_train.npy, x_val.npy, y_val.npy, README.txt
hidden/  x_train.npy, y_train.npy (the grader's own copies), x_test.npy, y_test.npy, meta.json
The learner's validation images are half of the held-out split; the grader tests on the
other half, which the learner never sees.
"""

import shutil
from pathlib import Path

from _shared.recipes import digits, finish, install_shared, run, save_arrays, train_val_test

HERE = Path(__file__).resolve().parent

SEED = 20250402


def main(public_dir: Path, hidden_dir: Path) -> None:
    x_train, y_train, x_val, y_val, x_test, y_test = train_val_test(*digits(), SEED)
    for out in (public_dir, hidden_dir):
        save_arrays(out, x_train=x_train, y_train=y_train)
    save_arrays(public_dir, x_val=x_val, y_val=y_val)
    save_arrays(hidden_dir, x_test=x_test, y_test=y_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    install_shared(public_dir, "nets")
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
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
