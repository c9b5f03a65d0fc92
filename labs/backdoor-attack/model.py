"""Model and training procedure of the backdoor-attack lab.

The grader trains exactly this CNN with exactly this procedure on the training set you
poisoned (with its own secret seeds); use train_model to rehearse your attack. Inputs are
float32 tensors (N, 1, 8, 8) with pixels in [0, 1]; outputs are logits (N, 10).
"""

import numpy as np
import torch
from torch import nn

EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


class DigitCNN(nn.Module):
    """conv16 - conv32 - maxpool - fc64 - fc10, ReLU activations (38,282 parameters)."""

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


def apply_trigger(images: np.ndarray, trigger: np.ndarray) -> np.ndarray:
    """Stamp a trigger (2, 8, 8): trigger[0] is the 0/1 mask, trigger[1] the pixel values."""
    mask, pattern = trigger[0], trigger[1]
    return (images * (1.0 - mask) + pattern * mask).astype(np.float32)


def train_model(x: np.ndarray, y: np.ndarray, seed: int) -> DigitCNN:
    """Adam, 20 epochs, batches of 64, shuffled by `seed`: what the grader runs."""
    torch.manual_seed(seed)
    model = DigitCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    xs, ys = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    model.eval()
    return model


def predict(model: DigitCNN, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x))).argmax(1).numpy()
