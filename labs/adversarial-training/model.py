"""The architecture of the adversarial-training lab: a small CNN for 8x8 digit images.

Learners import it from the lab assets and hand in a state_dict of exactly this class; the
grader imports its own copy. Inputs are float32 tensors (N, 1, 8, 8) with pixels in [0, 1];
outputs are logits (N, 10), where output k means digit LAB["class_order"][k].
"""

from _shared.nets import DigitCNN

__all__ = ["DigitCNN"]
