"""Deterministic asset recipe of the poison-forensics lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime).
From scikit-learn's bundled digits (nothing is downloaded) builds N_SETS poisoned copies of
one training split. In each: N_FLIPS images get a wrong label, and N_BACKDOOR images of other
classes get a small white trigger patch (its own shape, place and target class per set) and
the target label. Writes:
public/  x_sets.npy uint8 (S, N, 8, 8) ink levels 0..16, y_sets.npy int64 (S, N),
         forensics_data.py, README.txt
hidden/  flip_mask.npy, backdoor_mask.npy bool (S, N), y_clean.npy int64 (N,), meta.json
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 20250517
N_SETS = 24
N_FLIPS = 40
N_BACKDOOR = 40


def make_trigger(rng: np.random.Generator, ink: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """A 3- or 4-pixel patch in a 2x2 or 3x2 window where the clean images hold little ink."""
    height, width = (2, 2) if rng.random() < 0.5 else (3, 2)
    windows = [
        (r, c)
        for r in range(9 - height)
        for c in range(9 - width)
        if ink[r : r + height, c : c + width].mean() < 2.0
    ]
    row, col = windows[rng.integers(len(windows))]
    cells = [(row + i, col + j) for i in range(height) for j in range(width)]
    chosen = rng.choice(len(cells), size=int(rng.integers(3, 5)), replace=False)
    mask = np.zeros((8, 8), dtype=bool)
    for k in chosen:
        mask[cells[k]] = True
    return mask, [row, col, height, width]


def main(public_dir: Path, hidden_dir: Path) -> None:
    digits = load_digits()
    levels = digits.images.astype(np.uint8)  # 0..16
    y = digits.target.astype(np.int64)
    x_train, _x_test, y_train, _y_test = train_test_split(
        levels, y, test_size=0.3, stratify=y, random_state=SEED
    )
    n = len(y_train)
    ink = x_train.mean(axis=0)
    rng = np.random.default_rng(SEED)
    x_sets = np.repeat(x_train[None], N_SETS, axis=0)
    y_sets = np.repeat(y_train[None], N_SETS, axis=0)
    flip_mask = np.zeros((N_SETS, n), dtype=bool)
    backdoor_mask = np.zeros((N_SETS, n), dtype=bool)
    sets_meta = []
    for s in range(N_SETS):
        target = int(rng.integers(10))
        trigger, window = make_trigger(rng, ink)
        candidates = np.flatnonzero(y_train != target)
        chosen = rng.choice(candidates, size=N_FLIPS + N_BACKDOOR, replace=False)
        flips, backdoor = chosen[:N_FLIPS], chosen[N_FLIPS:]
        y_sets[s, flips] = (y_train[flips] + rng.integers(1, 10, size=N_FLIPS)) % 10
        for i in backdoor:
            x_sets[s, i][trigger] = 16
        y_sets[s, backdoor] = target
        flip_mask[s, flips] = True
        backdoor_mask[s, backdoor] = True
        sets_meta.append({"target": target, "window": window, "pixels": int(trigger.sum())})
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for path, array in (
        (public_dir / "x_sets.npy", x_sets),
        (public_dir / "y_sets.npy", y_sets),
        (hidden_dir / "flip_mask.npy", flip_mask),
        (hidden_dir / "backdoor_mask.npy", backdoor_mask),
        (hidden_dir / "y_clean.npy", y_train),
    ):
        with path.open("wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)
    shutil.copyfile(HERE / "forensics_data.py", public_dir / "forensics_data.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Poison forensics: find the poisoned training images'.\n"
        f"x_sets.npy         uint8 ({N_SETS}, {n}, 8, 8): ink levels 0..16 of {N_SETS} sets (/ 16)\n"
        f"y_sets.npy         int64 ({N_SETS}, {n}): their labels as delivered, poison included\n"
        "forensics_data.py  load_learner_set(assets, LAB['dataset'], LAB['shuffle_seed']):\n"
        "                   YOUR set, in YOUR order: always load it this way\n"
    )
    meta = {
        "seed": SEED,
        "n_sets": N_SETS,
        "n_train": n,
        "n_flips": N_FLIPS,
        "n_backdoor": N_BACKDOOR,
        "sets": sets_meta,
    }
    (hidden_dir / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(json.dumps({k: v for k, v in meta.items() if k != "sets"}, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
