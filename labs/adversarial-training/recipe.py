"""Deterministic asset recipe of the adversarial-training lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded) and trains the grader's two
surrogate models for its transfer attack. Writes:
public/  model.py, x_train.npy, y_train.npy, README.txt (what the learner gets)
hidden/  x_test.npy, y_test.npy, surrogate_plain.pt, surrogate_robust.pt, meta.json
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

from model import DigitCNN  # noqa: E402 -- the lab folder is put on the path just above

SEED = 20250311
EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EPSILON = 0.1
PGD_STEPS = 3


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=SEED % (2**32))


def pgd(model: DigitCNN, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    step = 2.5 * EPSILON / PGD_STEPS
    low, high = (x - EPSILON).clamp(0, 1), (x + EPSILON).clamp(0, 1)
    adv = (x + EPSILON * (2 * torch.rand(x.shape, generator=generator) - 1)).clamp(0, 1)
    for _ in range(PGD_STEPS):
        adv.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(adv), y)
        (grad,) = torch.autograd.grad(loss, adv)
        adv = torch.min(torch.max(adv.detach() + step * grad.sign(), low), high)
    return adv.detach()


def train(x_train: np.ndarray, y_train: np.ndarray, *, adversarial: bool, seed: int) -> DigitCNN:
    torch.manual_seed(seed)
    model = DigitCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            xb, yb = xs[batch], ys[batch]
            if adversarial:
                model.eval()
                xb = pgd(model, xb, yb, generator)
            model.train()
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
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
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    accuracies = {}
    for name, adversarial, seed in (("plain", False, SEED + 1), ("robust", True, SEED + 2)):
        model = train(x_train, y_train, adversarial=adversarial, seed=seed)
        with torch.no_grad():
            pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
        accuracies[name] = round(float((pred == y_test).mean()), 4)
        state = {key: value.detach().clone() for key, value in model.state_dict().items()}
        torch.save(state, hidden_dir / f"surrogate_{name}.pt")
    save_npy(public_dir / "x_train.npy", np.ascontiguousarray(x_train))
    save_npy(public_dir / "y_train.npy", np.ascontiguousarray(y_train))
    save_npy(hidden_dir / "x_test.npy", np.ascontiguousarray(x_test))
    save_npy(hidden_dir / "y_test.npy", np.ascontiguousarray(y_test))
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Adversarial training that survives a real evaluation'.\n"
        "model.py     DigitCNN: the architecture your state_dict must fit\n"
        f"x_train.npy  float32 (N, 1, 8, 8) in [0, 1], N = {len(x_train)}: training images\n"
        "y_train.npy  int64 (N,): their digits 0..9 (map them to your class order!)\n"
        "The grader evaluates on its own held-out test images.\n"
    )
    meta = {
        "seed": SEED,
        "train_size": len(x_train),
        "test_size": len(x_test),
        "surrogate_test_accuracy": accuracies,
        "torch": torch.__version__.split("+")[0],
    }
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
