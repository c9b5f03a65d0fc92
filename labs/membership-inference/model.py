"""Target model of the membership-inference lab: a small MLP for 40-feature tabular records.

Learners import it from the lab assets (to load the targets and to train shadow models with
exactly the targets' training recipe); the grader does not need it. Inputs are float32
arrays of shape (N, 40), standardised; outputs are logits (N, 4).
"""

import numpy as np
import torch
from torch import nn

N_FEATURES = 40
N_CLASSES = 4
EPOCHS = 150
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


class TargetMLP(nn.Module):
    """40 - 128 - 128 - 4, ReLU activations, no regularisation (it overfits on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(N_FEATURES, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, N_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_model(x: np.ndarray, y: np.ndarray, seed: int, epochs: int = EPOCHS) -> TargetMLP:
    """The targets' training recipe: Adam, lr 1e-3, batch 64, 150 epochs, no weight decay."""
    torch.manual_seed(seed)
    model = TargetMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    ys = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    model.eval()
    return model


def load_target(weights_path) -> TargetMLP:
    """Build the MLP, load a state_dict safely (weights only) and switch to eval mode."""
    model = TargetMLP()
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    model.eval()
    return model


def logits(model: TargetMLP, x: np.ndarray) -> np.ndarray:
    """float64 logits of the model on x (N, 40): query access, nothing more."""
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).double().numpy()
