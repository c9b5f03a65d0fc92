"""Unsafe solution: "scan" a file by loading it and looking at what comes out.

Loading a pickle IS running it: every payload executes inside the scanner, which is exactly
what a scanner exists to prevent. The grader's canaries catch this. Expected: no tier.
"""

import io
import pickle

import numpy as np
import torch


def scan(data: bytes, filename: str) -> bool:
    """Load the file with the loader its format invites; flag whatever is not plain data."""
    try:
        if data[:4] == b"PK\x03\x04" or filename.endswith((".pt", ".pth")):
            obj = torch.load(io.BytesIO(data), weights_only=False)
        elif data[:6] == b"\x93NUMPY":
            obj = np.load(io.BytesIO(data), allow_pickle=True)
        else:
            obj = pickle.loads(data)  # noqa: S301 -- deliberately unsafe: this is the anti-pattern
    except Exception:
        return True
    return not isinstance(obj, (dict, list, np.ndarray))
