"""Deterministic asset recipe of the federated-secure-aggregation lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded) and writes:
public/  fedlab.py, x_train.npy, y_train.npy (the federation's data), x_val.npy, y_val.npy
         (a validation set for your own checks), README.txt
hidden/  x_train.npy, y_train.npy (the grader's own copies), x_test.npy, y_test.npy (held
         out: the accuracy of the federated model is measured here), meta.json
Same inputs give bit-identical files.
"""

import shutil
from pathlib import Path

from _shared.recipes import digits, finish, run, save_arrays, train_val_test

HERE = Path(__file__).resolve().parent

SEED = 20250611


def main(public_dir: Path, hidden_dir: Path) -> None:
    x_train, y_train, x_val, y_val, x_test, y_test = train_val_test(*digits(flat=True), SEED)
    for out in (public_dir, hidden_dir):
        save_arrays(out, x_train=x_train, y_train=y_train)
    save_arrays(public_dir, x_val=x_val, y_val=y_val)
    save_arrays(hidden_dir, x_test=x_test, y_test=y_test)
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
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
