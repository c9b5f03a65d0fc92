"""Deterministic asset recipe of the poison-forensics lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime).
From scikit-learn's bundled digits (nothing is downloaded) builds N_SETS poisoned copies of
one training split. Every set is first re-rendered (see `warp_digits`): its own secret affine
warp for the whole set, a small random warp per image, pixel noise, and re-quantisation to
the ink levels 0..16 with the digits' own histogram; then its rows are put in a secret order
of the set's own. So no image is a copy, or a near-copy, of a bundled digit (the sandbox
ships scikit-learn: matching against `load_digits()` would otherwise read the poison off the
originals), and the sets cannot be lined up row by row to vote the poison out. Only then
is each set poisoned: N_FLIPS images get a wrong label, and N_BACKDOOR images of other
classes get a small white trigger patch (its own shape, place and target class per set) and
the target label, so the trigger stays a clean artifact on top of the warped image. Writes:
public/  x_sets.npy uint8 (S, N, 8, 8) ink levels 0..16, y_sets.npy int64 (S, N),
         forensics_data.py, README.txt
hidden/  flip_mask.npy, backdoor_mask.npy bool (S, N), y_clean.npy int64 (S, N), meta.json
"""

import json
import shutil
from pathlib import Path

import numpy as np

from _shared.digit_warp import set_warp, warp_digits
from _shared.recipes import run, save_arrays, split, write_json

HERE = Path(__file__).resolve().parent

SEED = 20250517
WARP_SEED = 83_611_902  # the sets' warps and row orders: a stream of its own
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
    from sklearn.datasets import load_digits

    digits = load_digits()
    levels = digits.images.astype(np.uint8)  # 0..16
    x_train, _x_test, y_train, _y_test = split(levels, digits.target.astype(np.int64), SEED)
    n = len(y_train)
    rng = np.random.default_rng(SEED)
    x_sets = np.empty((N_SETS, n, 8, 8), dtype=np.uint8)
    y_clean = np.empty((N_SETS, n), dtype=np.int64)
    for s in range(N_SETS):
        warp_rng = np.random.default_rng([WARP_SEED, s])
        order = warp_rng.permutation(n)
        warped = warp_digits(x_train, set_warp(warp_rng), warp_rng)
        x_sets[s], y_clean[s] = warped[order], y_train[order]
    y_sets = y_clean.copy()
    flip_mask = np.zeros((N_SETS, n), dtype=bool)
    backdoor_mask = np.zeros((N_SETS, n), dtype=bool)
    sets_meta = []
    for s in range(N_SETS):
        target = int(rng.integers(10))
        trigger, window = make_trigger(rng, x_sets[s].mean(axis=0))
        candidates = np.flatnonzero(y_clean[s] != target)
        chosen = rng.choice(candidates, size=N_FLIPS + N_BACKDOOR, replace=False)
        flips, backdoor = chosen[:N_FLIPS], chosen[N_FLIPS:]
        y_sets[s, flips] = (y_clean[s, flips] + rng.integers(1, 10, size=N_FLIPS)) % 10
        for i in backdoor:
            x_sets[s, i][trigger] = 16
        y_sets[s, backdoor] = target
        flip_mask[s, flips] = True
        backdoor_mask[s, backdoor] = True
        sets_meta.append({"target": target, "window": window, "pixels": int(trigger.sum())})
    save_arrays(public_dir, x_sets=x_sets, y_sets=y_sets)
    save_arrays(hidden_dir, flip_mask=flip_mask, backdoor_mask=backdoor_mask, y_clean=y_clean)
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
        "warp_seed": WARP_SEED,
        "n_sets": N_SETS,
        "n_train": n,
        "n_flips": N_FLIPS,
        "n_backdoor": N_BACKDOOR,
        "sets": sets_meta,
    }
    write_json(hidden_dir / "meta.json", meta, indent=1)
    print(json.dumps({k: v for k, v in meta.items() if k != "sets"}, sort_keys=True))


if __name__ == "__main__":
    run(main)
