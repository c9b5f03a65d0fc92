"""The served model of the api-hardening lab: multinomial logistic regression on 8x8 digits.

Weights are plain .npy arrays (no pickle). Inputs are rows of 64 pixel intensities in [0, 16]
(scikit-learn's digits scale); predict() returns the class (0..9) of each row.
"""

from pathlib import Path

import numpy as np

N_FEATURES = 64
FEATURE_MIN = 0.0
FEATURE_MAX = 16.0


class DigitModel:
    def __init__(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)  # (10, 64)
        self.intercept = np.asarray(intercept, dtype=np.float64)  # (10,)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, N_FEATURES)
        return (rows / FEATURE_MAX) @ self.coef.T + self.intercept

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.logits(rows).argmax(axis=1)


def load_model(folder: str | Path) -> DigitModel:
    folder = Path(folder)
    coef = np.load(folder / "coef.npy", allow_pickle=False)
    intercept = np.load(folder / "intercept.npy", allow_pickle=False)
    return DigitModel(coef, intercept)
