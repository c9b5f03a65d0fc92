"""Re-rendering of scikit-learn's digits, shared by the adversarial-training and
poison-forensics recipes.

The sandbox ships scikit-learn, so images a lab holds back (or poisons) would otherwise be
`load_digits()` images a learner could look up. The warp of a whole set is a rotation of 15
to 20 degrees either way (plus a little shear, scale and shift) about the centre, so the
set is slanted away from the bundled digits: a model of the bundled digits misreads many of
its images, while within the set images keep their class and their neighbours. On top of
it, every image gets a small warp, contrast and noise of its own. None is then a copy, or a
near-copy, of a bundled digit.
"""

import numpy as np

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
