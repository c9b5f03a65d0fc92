"""The architecture of the adversarial-training lab: a small CNN for 8x8 digit images.

Learners import it from the lab assets and hand in a state_dict of exactly this class; the
grader imports its own copy. Inputs are float32 tensors (N, 1, 8, 8) with pixels in [0, 1];
outputs are logits (N, 10), where output k means digit LAB["class_order"][k].
"""

import torch
from torch import nn


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
