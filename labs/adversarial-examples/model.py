"""The victim model of the adversarial-examples lab: a small CNN for 8x8 digit images.

Learners import it from the lab assets; the grader imports its own copy. Inputs are
float32 tensors of shape (N, 1, 8, 8) with pixel values in [0, 1]; outputs are logits (N, 10).
"""

from _shared.nets import DigitCNN, load_weights

VictimCNN = DigitCNN  # conv16 - conv32 - maxpool - fc64 - fc10, ReLU activations (38,282 parameters)


def load_victim(weights_path) -> DigitCNN:
    """Build the CNN, load a state_dict safely (weights only) and switch to eval mode."""
    return load_weights(DigitCNN(), weights_path)
