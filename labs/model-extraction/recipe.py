"""Deterministic asset recipe of the model-extraction lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
The victim is a "proprietary sensor" classifier: scikit-learn's 8x8 digits, scrambled by a
secret fixed pixel permutation and inversion mask, with secretly permuted class ids, so the
public digits (and their labels) do not help; only the oracle's answers do.
public/  pool.npy (unlabelled training-distribution readings), x_attack.npy, surrogate.py,
         oracle_client.py, README.txt
hidden/  victim.pt, x_eval.npy, x_attack.npy, meta.json (the scramble never leaves this run)
"""

import shutil
from pathlib import Path

import numpy as np
import torch
from surrogate import Surrogate

from _shared.nets import deterministic, predict_labels, save_state, train_classifier
from _shared.recipes import digits, finish, install_shared, run, save_arrays, split

HERE = Path(__file__).resolve().parent

SEED = 20250611
SCRAMBLE_SEED = 918273645
EPOCHS = 60
BATCH_SIZE = 32
N_ATTACK = 300


def scrambled_digits() -> tuple[np.ndarray, np.ndarray]:
    x, y = digits(flat=True)
    rng = np.random.default_rng(SCRAMBLE_SEED)
    permutation = rng.permutation(64)
    inverted = rng.random(64) < 0.5
    classes = rng.permutation(10)
    x = np.where(inverted, 1.0 - x, x)[:, permutation].astype(np.float32)
    return np.ascontiguousarray(x), classes[y].astype(np.int64)


def main(public_dir: Path, hidden_dir: Path) -> None:
    deterministic()
    x_train, x_test, y_train, y_test = split(*scrambled_digits(), SEED)
    model = train_classifier(Surrogate, x_train, y_train, seed=SEED, epochs=EPOCHS, batch_size=BATCH_SIZE)
    accuracy = float((predict_labels(model, x_test) == y_test).mean())
    x_attack = np.ascontiguousarray(x_test[:N_ATTACK])
    x_eval = np.ascontiguousarray(x_test[N_ATTACK:])
    for out in (public_dir, hidden_dir):
        save_arrays(out, x_attack=x_attack)
    save_arrays(public_dir, pool=x_train)
    save_state(model, hidden_dir / "victim.pt")
    save_arrays(hidden_dir, x_eval=x_eval)
    for name in ("surrogate.py", "oracle_client.py"):
        shutil.copyfile(HERE / name, public_dir / name)
    install_shared(public_dir, "nets")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Steal a model under a query budget'.\n"
        f"pool.npy          float32 ({len(x_train)}, 64) in [0, 1]: unlabelled readings of the victim's "
        "input distribution\n"
        f"x_attack.npy      float32 ({N_ATTACK}, 64): inputs for the transfer attack "
        "(perturb the rows LAB['attack_rows'])\n"
        "surrogate.py      Surrogate: the architecture of the state_dict you hand in\n"
        "oracle_client.py  query(x) -> labels and status(): the metered, label-only oracle\n"
    )
    meta = {
        "seed": SEED,
        "epochs": EPOCHS,
        "pool_size": len(x_train),
        "attack_size": len(x_attack),
        "eval_size": len(x_eval),
        "victim_test_accuracy": round(accuracy, 4),
        "torch": torch.__version__.split("+")[0],
    }
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
