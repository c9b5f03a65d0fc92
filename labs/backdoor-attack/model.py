"""Model and training procedure of the backdoor-attack lab.

The grader trains exactly this CNN with exactly this procedure on the training set you
poisoned (with its own secret seeds); use train_model to rehearse your attack. Inputs are
float32 tensors (N, 1, 8, 8) with pixels in [0, 1]; outputs are logits (N, 10).
"""

import numpy as np

from _shared.nets import DigitCNN, predict_labels, train_classifier

EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


def apply_trigger(images: np.ndarray, trigger: np.ndarray) -> np.ndarray:
    """Stamp a trigger (2, 8, 8): trigger[0] is the 0/1 mask, trigger[1] the pixel values."""
    mask, pattern = trigger[0], trigger[1]
    return (images * (1.0 - mask) + pattern * mask).astype(np.float32)


def train_model(x: np.ndarray, y: np.ndarray, seed: int) -> DigitCNN:
    """Adam, 20 epochs, batches of 64, shuffled by `seed`: what the grader runs."""
    return train_classifier(
        DigitCNN, x, y, seed=seed, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE
    )


def predict(model: DigitCNN, x: np.ndarray) -> np.ndarray:
    return predict_labels(model, x)
