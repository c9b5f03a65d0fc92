"""Deterministic asset recipe of the adversarial-training lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Splits scikit-learn's bundled digits (nothing is downloaded), re-renders both splits (see
`warp_digits`: one secret affine warp for the lab, a small random warp per image, pixel
noise, re-quantisation to the ink levels 0..16 with the digits' own histogram) and trains the
grader's two surrogate models for its transfer attack. The sandbox ships scikit-learn, so
without the re-rendering the held-out test images would be `load_digits()` images that a
learner could train on; now none is a copy, or a near-copy, of a bundled digit. Writes:
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
WARP_SEED = 47_120_385  # the warps of both splits: a stream of its own
EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EPSILON = 0.1
PGD_STEPS = 3

# The re-rendering (the same as in the poison-forensics lab). One warp for the whole lab, both
# splits, is a rotation of 15 to 20 degrees either way (plus a little shear, scale and shift)
# about the centre, so the lab's digits are slanted away from the bundled ones: a model of the
# bundled digits misreads many of them, while the training and test images share it (the same
# distribution). On top of it, every image gets a small warp, contrast and noise of its own,
# drawn separately for each split.
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
    """The affine map (matrix, shift) shared by every image of the lab, both splits."""
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


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split of the bundled digits, re-rendered: float32 (N, 1, 8, 8) in [0, 1], int64 digits."""
    digits = load_digits()
    levels = digits.images.astype(np.uint8)  # ink levels 0..16
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        levels, y, test_size=0.3, stratify=y, random_state=SEED % (2**32)
    )
    shared = set_warp(np.random.default_rng([WARP_SEED, 0]))
    x_train = warp_digits(x_train, shared, np.random.default_rng([WARP_SEED, 1]))
    x_test = warp_digits(x_test, shared, np.random.default_rng([WARP_SEED, 2]))
    return (
        (x_train / 16.0).astype(np.float32)[:, None, :, :],
        (x_test / 16.0).astype(np.float32)[:, None, :, :],
        y_train,
        y_test,
    )


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
        "The images are scikit-learn's digits re-rendered for this lab (one secret warp for all,\n"
        "a little more warp and noise per image). The grader evaluates on its own held-out test\n"
        "images, rendered the same way; none of them is a copy of a load_digits() image.\n"
    )
    meta = {
        "seed": SEED,
        "warp_seed": WARP_SEED,
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
