"""Target model of the membership-inference lab: a small MLP for 40-feature tabular records.

Learners import it from the lab assets (to load the targets and to train shadow models with
exactly the targets' training recipe); the grader does not need it. Inputs are float32
arrays of shape (N, 40), standardised; outputs are logits (N, 4).
"""

import numpy as np
import torch

from _shared.nets import MLP, load_weights, train_classifier

N_FEATURES = 40
N_CLASSES = 4
EPOCHS = 150
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


class TargetMLP(MLP):
    """40 - 128 - 128 - 4, ReLU activations, no regularisation (it overfits on purpose)."""

    def __init__(self) -> None:
        super().__init__(N_FEATURES, 128, 128, N_CLASSES)


def train_model(x: np.ndarray, y: np.ndarray, seed: int, epochs: int = EPOCHS) -> TargetMLP:
    """The targets' training recipe: Adam, lr 1e-3, batch 64, 150 epochs, no weight decay."""
    return train_classifier(
        TargetMLP, x, y, seed=seed, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE
    )


def load_target(weights_path) -> TargetMLP:
    """Build the MLP, load a state_dict safely (weights only) and switch to eval mode."""
    return load_weights(TargetMLP(), weights_path)


def logits(model: TargetMLP, x: np.ndarray) -> np.ndarray:
    """float64 logits of the model on x (N, 40): query access, nothing more."""
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).double().numpy()
