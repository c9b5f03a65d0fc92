"""The digits CNN and the one training loop of the labs that train torch classifiers.

Imported by lab modules (model.py, surrogate.py), recipes and graders. Recipes that hand a
model.py to learners also install this file in the public assets (`assets.install_shared`),
so learners' `from model import ...` finds it there. Same seeds give bit-identical weights:
the loop draws from torch's global seed (initialisation) and one generator (batch order,
and whatever `perturb` draws) in a fixed order.
"""

import itertools
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


class DigitCNN(nn.Module):
    """conv16 - conv32 - maxpool - fc64 - fc10, ReLU activations (38,282 parameters).

    Inputs are float32 tensors (N, 1, 8, 8) with pixels in [0, 1]; outputs are logits (N, 10).
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def mlp(*widths: int) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (inputs, outputs) in enumerate(itertools.pairwise(widths)):
        if index:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(inputs, outputs))
    return nn.Sequential(*layers)


Perturb = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def train_classifier(
    make_model: Callable[[], nn.Module],
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    perturb: Perturb | None = None,
) -> nn.Module:
    """Adam on cross-entropy, shuffled mini-batches, all drawn from `seed`; returns eval mode.

    `perturb(model, xb, yb, generator)`, if given, replaces each batch's inputs (e.g. PGD for
    adversarial training); the model is in eval mode while it runs.
    """
    torch.manual_seed(seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    ys = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), batch_size):
            batch = order[start : start + batch_size]
            xb, yb = xs[batch], ys[batch]
            if perturb is not None:
                model.eval()
                xb = perturb(model, xb, yb, generator)
                model.train()
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    model.eval()
    return model


def load_weights(model: nn.Module, weights_path) -> nn.Module:
    """Load a state_dict safely (weights only) into `model` and switch it to eval mode."""
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    model.eval()
    return model


def predict_labels(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Arg-max classes of float32 inputs, without gradients."""
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).argmax(1).numpy()


class MLP(nn.Module):
    """A multilayer perceptron of the given widths (ReLU between layers), as `self.net`."""

    def __init__(self, *widths: int) -> None:
        super().__init__()
        self.net = mlp(*widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def deterministic() -> None:
    """One thread and deterministic kernels: recipes then write bit-identical weights."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def save_state(model: nn.Module, path) -> None:
    """Save a detached copy of the model's state_dict (load it with weights_only=True)."""
    torch.save({name: tensor.detach().clone() for name, tensor in model.state_dict().items()}, path)
