"""Deterministic asset recipe of the model-extraction lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
The victim is a "proprietary sensor" classifier: scikit-learn's 8x8 digits, scrambled by a
secret fixed pixel permutation and inversion mask, with secretly permuted class ids, so the
public digits (and their labels) do not help; only the oracle's answers do.
public/  pool.npy (unlabelled training-distribution readings), x_attack.npy, surrogate.py,
         oracle_client.py, README.txt
hidden/  victim.pt, x_eval.npy, x_attack.npy, meta.json (the scramble never leaves this run)
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

from surrogate import Surrogate  # noqa: E402 -- the lab folder is put on the path just above

SEED = 20250611
SCRAMBLE_SEED = 918273645
EPOCHS = 60
BATCH_SIZE = 32
N_ATTACK = 300


def scrambled_digits() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    x = (digits.images.reshape(-1, 64) / 16.0).astype(np.float32)
    rng = np.random.default_rng(SCRAMBLE_SEED)
    permutation = rng.permutation(64)
    inverted = rng.random(64) < 0.5
    classes = rng.permutation(10)
    x = np.where(inverted, 1.0 - x, x)[:, permutation].astype(np.float32)
    return np.ascontiguousarray(x), classes[digits.target].astype(np.int64)


def train(x: np.ndarray, y: np.ndarray) -> Surrogate:
    torch.manual_seed(SEED)
    model = Surrogate()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    return model.eval()


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x, y = scrambled_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=SEED % (2**32)
    )
    model = train(x_train, y_train)
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    x_attack = np.ascontiguousarray(x_test[:N_ATTACK])
    x_eval = np.ascontiguousarray(x_test[N_ATTACK:])
    for out in (public_dir, hidden_dir):
        out.mkdir(parents=True, exist_ok=True)
        save_npy(out / "x_attack.npy", x_attack)
    save_npy(public_dir / "pool.npy", np.ascontiguousarray(x_train))
    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    torch.save(state, hidden_dir / "victim.pt")
    save_npy(hidden_dir / "x_eval.npy", x_eval)
    for name in ("surrogate.py", "oracle_client.py"):
        shutil.copyfile(HERE / name, public_dir / name)
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
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
