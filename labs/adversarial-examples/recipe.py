"""Deterministic asset recipe of the adversarial-examples lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Trains the victim CNN on scikit-learn's bundled digits (nothing is downloaded) and writes:
public/  model.py, victim.pt, x_eval.npy, y_eval.npy, README.txt (what the learner gets)
hidden/  victim.pt, x_eval.npy, y_eval.npy (the grader's own copies), meta.json
Same inputs give bit-identical files: fixed seeds, one thread, deterministic algorithms.
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model import VictimCNN  # noqa: E402 -- the lab folder is put on the path just above

SEED = 20240917
EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EVAL_SIZE = 300


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=SEED % (2**32)
    )
    return x_train, x_test, y_train, y_test


def train(x_train: np.ndarray, y_train: np.ndarray) -> VictimCNN:
    torch.manual_seed(SEED)
    model = VictimCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss_fn(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    model.eval()
    return model


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, x_test, y_train, y_test = load_data()
    model = train(x_train, y_train)
    with torch.no_grad():
        test_pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    test_accuracy = float((test_pred == y_test).mean())
    correct = np.flatnonzero(test_pred == y_test)[:EVAL_SIZE]
    x_eval = np.ascontiguousarray(x_test[correct], dtype=np.float32)
    y_eval = np.ascontiguousarray(y_test[correct], dtype=np.int64)

    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    for out in (public_dir, hidden_dir):
        out.mkdir(parents=True, exist_ok=True)
        torch.save(state, out / "victim.pt")
        save_npy(out / "x_eval.npy", x_eval)
        save_npy(out / "y_eval.npy", y_eval)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
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
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
