"""The victim model of the adversarial-examples lab: a small CNN for 8x8 digit images.

Learners import it from the lab assets; the grader imports its own copy. Inputs are
float32 tensors of shape (N, 1, 8, 8) with pixel values in [0, 1]; outputs are logits (N, 10).
"""

import torch
from torch import nn


class VictimCNN(nn.Module):
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


def load_victim(weights_path) -> VictimCNN:
    """Build the CNN, load a state_dict safely (weights only) and switch to eval mode."""
    model = VictimCNN()
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return model
