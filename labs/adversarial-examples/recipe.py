"""Deterministic asset recipe of the adversarial-examples lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Trains the victim CNN on scikit-learn's bundled digits (nothing is downloaded) and writes:
public/  model.py, victim.pt, x_eval.npy, y_eval.npy, README.txt (what the learner gets)
hidden/  victim.pt, x_eval.npy, y_eval.npy (the grader's own copies), meta.json
Same inputs give bit-identical files: fixed seeds, one thread, deterministic algorithms.
"""

import shutil
from pathlib import Path

import numpy as np
import torch
from model import VictimCNN

from _shared.nets import predict_labels, train_classifier
from _shared.recipes import digits, finish, install_shared, run, save_arrays, split

HERE = Path(__file__).resolve().parent

SEED = 20240917
EPOCHS = 30
EVAL_SIZE = 300


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, x_test, y_train, y_test = split(*digits(), SEED)
    model = train_classifier(VictimCNN, x_train, y_train, seed=SEED, epochs=EPOCHS)
    test_pred = predict_labels(model, x_test)
    test_accuracy = float((test_pred == y_test).mean())
    correct = np.flatnonzero(test_pred == y_test)[:EVAL_SIZE]
    x_eval = np.ascontiguousarray(x_test[correct], dtype=np.float32)
    y_eval = np.ascontiguousarray(y_test[correct], dtype=np.int64)

    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    for out in (public_dir, hidden_dir):
        save_arrays(out, x_eval=x_eval, y_eval=y_eval)
        torch.save(state, out / "victim.pt")
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    install_shared(public_dir, "nets")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Craft adversarial examples'.\n"
        "model.py    VictimCNN architecture and load_victim(path)\n"
        "victim.pt   state_dict of the victim (load with weights_only=True)\n"
        f"x_eval.npy  float32 (N, 1, 8, 8) in [0, 1], N = {len(x_eval)}: images to perturb\n"
        "y_eval.npy  int64 (N,): their true labels (the victim classifies all of them correctly)\n"
    )
    meta = {
        "seed": SEED,
        "epochs": EPOCHS,
        "train_size": len(x_train),
        "test_size": len(x_test),
        "test_accuracy": round(test_accuracy, 4),
        "eval_size": len(x_eval),
        "torch": torch.__version__.split("+")[0],
    }
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
