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
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 20250517
WARP_SEED = 83_611_902  # the sets' warps and row orders: a stream of its own
N_SETS = 24
N_FLIPS = 40
N_BACKDOOR = 40

# The re-rendering (the same in the adversarial-training lab). The warp of a whole set is a
# rotation of 15 to 20 degrees either way (plus a little shear, scale and shift) about the
# centre, so every set is slanted away from the bundled digits: a model of the bundled digits
# misreads many of its images, while within the set, images keep their class and their
# neighbours. On top of it, every image gets a small warp, contrast and noise of its own.
# |angle| and |shear| are drawn in their ranges, either sign; the scale of each axis is
# log-uniform in [1/scale, scale]; the shift of each axis uniform in [-shift_px, shift_px].
SET_WARP = {"rotation_deg": (15.0, 20.0), "shear": (0.0, 0.05), "scale": 1.05, "shift_px": 0.5}
IMAGE_WARP = {"rotation_deg": (0.0, 3.0), "shear": (0.0, 0.04), "scale": 1.03, "shift_px": 0.25}
IMAGE_GAMMA = 1.1  # ink contrast per image, log-uniform in [1/1.1, 1.1]
NOISE_LEVELS = 0.8  # Gaussian pixel noise, in ink levels, before re-quantisation
SUBSAMPLES = 8  # per pixel side: each output pixel averages 8 x 8 points of the source


def random_affine(
    rng: np.random.Generator,
    n: int,
    *,
    rotation_deg: tuple[float, float],
    shear: tuple[float, float],
    scale: float,
    shift_px: float,
) -> tuple[np.ndarray, np.ndarray]:
    """n affine maps (2x2 matrices in (row, col) coordinates about the centre, shifts)."""
    angle = np.deg2rad(rng.choice([-1.0, 1.0], n) * rng.uniform(*rotation_deg, n))
    slant = rng.choice([-1.0, 1.0], n) * rng.uniform(*shear, n)
    rows, cols = np.exp(rng.uniform(-np.log(scale), np.log(scale), (2, n)))
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    stretch = np.zeros((n, 2, 2))
    stretch[:, 0, 0], stretch[:, 1, 1], stretch[:, 0, 1] = rows, cols, rows * slant
    return rotation @ stretch, rng.uniform(-shift_px, shift_px, (n, 2))


def render(levels: np.ndarray, matrices: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Ink fraction (n, 8, 8) of each image moved by its affine map.

    A source pixel is a uniform square of ink (what an ink level 0..16 counts); each output
    pixel is the mean over SUBSAMPLES^2 points of the area it covers, mapped back.
    """
    n = len(levels)
    ink = levels.astype(np.float64) / 16.0
    points = ((np.arange(8)[:, None] + (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES).ravel()) - 4.0
    grid = np.stack(np.meshgrid(points, points, indexing="ij")).reshape(2, -1)
    source = np.einsum("nij,njm->nim", np.linalg.inv(matrices), grid[None] - shifts[:, :, None]) + 4.0
    row, col = np.floor(source).astype(np.int64).transpose(1, 0, 2)
    inside = (row >= 0) & (row < 8) & (col >= 0) & (col < 8)
    values = np.where(inside, ink[np.arange(n)[:, None], row.clip(0, 7), col.clip(0, 7)], 0.0)
    return values.reshape(n, 8, SUBSAMPLES, 8, SUBSAMPLES).mean(axis=(2, 4))


def requantise(values: np.ndarray, reference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer ink levels in the order of values, with exactly the histogram of reference."""
    flat = values.ravel()
    order = np.lexsort((rng.random(flat.shape), flat))  # ties broken at random
    target = np.sort(reference.ravel())
    out = np.empty(flat.shape, dtype=np.uint8)
    out[order] = target[np.linspace(0, len(target) - 1, len(flat)).round().astype(np.int64)]
    return out.reshape(values.shape)


def set_warp(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The affine map (matrix, shift) shared by every image of one set."""
    matrix, shift = random_affine(rng, 1, **SET_WARP)
    return matrix[0], shift[0]


def warp_digits(
    levels: np.ndarray, shared: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Re-render uint8 ink levels (n, 8, 8): the shared map, then a small map, contrast and noise each."""
    n = len(levels)
    matrices, shifts = random_affine(rng, n, **IMAGE_WARP)
    matrices, shifts = shared[0] @ matrices, shifts @ shared[0].T + shared[1]
    gamma = np.exp(rng.uniform(-np.log(IMAGE_GAMMA), np.log(IMAGE_GAMMA), n))[:, None, None]
    values = 16.0 * render(levels, matrices, shifts) ** gamma + rng.normal(0.0, NOISE_LEVELS, (n, 8, 8))
    return requantise(values, levels, rng)


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
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for path, array in (
        (public_dir / "x_sets.npy", x_sets),
        (public_dir / "y_sets.npy", y_sets),
        (hidden_dir / "flip_mask.npy", flip_mask),
        (hidden_dir / "backdoor_mask.npy", backdoor_mask),
        (hidden_dir / "y_clean.npy", y_clean),
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
        "warp_seed": WARP_SEED,
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
