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

import shutil
from pathlib import Path

import numpy as np
import torch
from model import N_CLASSES, N_FEATURES, logits, train_model

from _shared.nets import deterministic, save_state
from _shared.recipes import install_shared, run, save_arrays, tabular, write_json

HERE = Path(__file__).resolve().parent

SEED = 20241003
N_VARIANTS = 16
BLOCK = 1000  # candidates per target: 500 members, 500 non-members
POPULATION = 8000


def main(public_dir: Path, hidden_dir: Path) -> None:
    deterministic()
    x, y = tabular(
        N_VARIANTS * BLOCK + POPULATION, N_FEATURES, N_CLASSES, seed=SEED, flip_y=0.05, class_sep=1.0
    )
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
        save_state(model, public_dir / f"target_{v:02d}.pt")
        correct = logits(model, x_candidates[v]).argmax(axis=1) == y_candidates[v]
        per_target.append(
            {
                "target": v,
                "train_accuracy": round(float(correct[membership[v] == 1].mean()), 4),
                "test_accuracy": round(float(correct[membership[v] == 0].mean()), 4),
            }
        )
    save_arrays(
        public_dir,
        x_candidates=x_candidates,
        y_candidates=y_candidates,
        x_population=x_population,
        y_population=y_population,
    )
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    install_shared(public_dir, "nets")
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
    save_arrays(hidden_dir, membership=membership)
    meta = {
        "seed": SEED,
        "variants": N_VARIANTS,
        "block": BLOCK,
        "population": POPULATION,
        "targets": per_target,
        "torch": torch.__version__.split("+")[0],
    }
    write_json(hidden_dir / "meta.json", meta)
    print(f"variants {N_VARIANTS}, block {BLOCK}")


if __name__ == "__main__":
    run(main)
