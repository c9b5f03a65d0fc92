"""The surrogate architecture of the model-extraction lab: an MLP for 64-feature readings.

Learners import it from the lab assets and hand in a state_dict of `Surrogate`; the grader
imports its own copy. Inputs are float32 tensors of shape (N, 64) in [0, 1]; outputs are
logits (N, 10) over the oracle's label codes 0..9.
"""

from _shared.nets import MLP

N_FEATURES = 64
N_CLASSES = 10


class Surrogate(MLP):
    """64 - 128 - 128 - 10, ReLU activations (26,122 parameters)."""

    def __init__(self) -> None:
        super().__init__(N_FEATURES, 128, 128, N_CLASSES)
