"""Deterministic asset recipe of the membership-inference lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Generates tabular data with scikit-learn's make_classification (nothing is downloaded),
splits it into N_VARIANTS disjoint candidate blocks and one population pool, and trains one
overfit target MLP per block on a random half of that block (its members). Writes:
public/  model.py, target_XX.pt, x_candidates.npy, y_candidates.npy, x_population.npy,
         y_population.npy, README.txt (what the learner gets; membership is NOT in it)
hidden/  membership.npy (which candidates are members, per target), meta.json
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
from sklearn.datasets import make_classification

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model import N_CLASSES, N_FEATURES, logits, train_model  # noqa: E402 -- lab folder on the path above

SEED = 20241003
N_VARIANTS = 16
BLOCK = 1000  # candidates per target: 500 members, 500 non-members
POPULATION = 8000


def make_data() -> tuple[np.ndarray, np.ndarray]:
    total = N_VARIANTS * BLOCK + POPULATION
    x, y = make_classification(
        n_samples=total,
        n_features=N_FEATURES,
        n_informative=15,
        n_redundant=4,
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        flip_y=0.05,
        class_sep=1.0,
        random_state=SEED % (2**31),
    )
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32), y.astype(np.int64)


def save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x, y = make_data()
    blocks = N_VARIANTS * BLOCK
    x_candidates = x[:blocks].reshape(N_VARIANTS, BLOCK, N_FEATURES)
    y_candidates = y[:blocks].reshape(N_VARIANTS, BLOCK)
    x_population, y_population = x[blocks:], y[blocks:]
    rng = np.random.default_rng(SEED)
    membership = np.zeros((N_VARIANTS, BLOCK), dtype=np.uint8)
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    per_target = []
    for v in range(N_VARIANTS):
        members = rng.permutation(BLOCK)[: BLOCK // 2]
        membership[v, members] = 1
        model = train_model(x_candidates[v, members], y_candidates[v, members], seed=SEED + v)
        state = {name: t.detach().clone() for name, t in model.state_dict().items()}
        torch.save(state, public_dir / f"target_{v:02d}.pt")
        correct = logits(model, x_candidates[v]).argmax(axis=1) == y_candidates[v]
        per_target.append(
            {
                "target": v,
                "train_accuracy": round(float(correct[membership[v] == 1].mean()), 4),
                "test_accuracy": round(float(correct[membership[v] == 0].mean()), 4),
            }
        )
    save_npy(public_dir / "x_candidates.npy", np.ascontiguousarray(x_candidates))
    save_npy(public_dir / "y_candidates.npy", np.ascontiguousarray(y_candidates))
    save_npy(public_dir / "x_population.npy", np.ascontiguousarray(x_population))
    save_npy(public_dir / "y_population.npy", np.ascontiguousarray(y_population))
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Membership inference against an overfit model'.\n"
        "model.py            TargetMLP, train_model (the targets' exact recipe), load_target, logits\n"
        f"target_XX.pt        state_dicts of the {N_VARIANTS} targets; yours is LAB['target_model']\n"
        f"x_candidates.npy    float32 ({N_VARIANTS}, {BLOCK}, {N_FEATURES}): candidates of each target\n"
        f"y_candidates.npy    int64 ({N_VARIANTS}, {BLOCK}): their true labels (0..{N_CLASSES - 1})\n"
        f"x_population.npy    float32 ({POPULATION}, {N_FEATURES}): records from the same distribution,\n"
        "                    never used by any target (for shadow models)\n"
        "y_population.npy    int64: their labels\n"
    )
    save_npy(hidden_dir / "membership.npy", membership)
    meta = {
        "seed": SEED,
        "variants": N_VARIANTS,
        "block": BLOCK,
        "population": POPULATION,
        "targets": per_target,
        "torch": torch.__version__.split("+")[0],
    }
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps({"variants": N_VARIANTS, "block": BLOCK}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
