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

import shutil
from pathlib import Path

import numpy as np
import torch
from model import DigitCNN

from _shared.digit_warp import set_warp, warp_digits
from _shared.nets import predict_labels, train_classifier
from _shared.recipes import finish, install_shared, run, save_arrays, split

HERE = Path(__file__).resolve().parent

SEED = 20250311
WARP_SEED = 47_120_385  # the warps of both splits: a stream of its own
EPOCHS = 20
EPSILON = 0.1
PGD_STEPS = 3


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split of the bundled digits, re-rendered (one warp for the lab, both splits, so the
    training and test images share a distribution): float32 (N, 1, 8, 8) in [0, 1], int64 digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    levels = digits.images.astype(np.uint8)  # ink levels 0..16
    x_train, x_test, y_train, y_test = split(levels, digits.target.astype(np.int64), SEED)
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
    return train_classifier(
        DigitCNN, x_train, y_train, seed=seed, epochs=EPOCHS, perturb=pgd if adversarial else None
    )


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, x_test, y_train, y_test = load_data()
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    accuracies = {}
    for name, adversarial, seed in (("plain", False, SEED + 1), ("robust", True, SEED + 2)):
        model = train(x_train, y_train, adversarial=adversarial, seed=seed)
        accuracies[name] = round(float((predict_labels(model, x_test) == y_test).mean()), 4)
        state = {key: value.detach().clone() for key, value in model.state_dict().items()}
        torch.save(state, hidden_dir / f"surrogate_{name}.pt")
    save_arrays(public_dir, x_train=x_train, y_train=y_train)
    save_arrays(hidden_dir, x_test=x_test, y_test=y_test)
    shutil.copyfile(HERE / "model.py", public_dir / "model.py")
    install_shared(public_dir, "nets")
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
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
