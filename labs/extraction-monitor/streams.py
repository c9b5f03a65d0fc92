"""Example query streams of the extraction-monitor lab: load them and replay them into a monitor.

`replay` follows the grader's rules: requests arrive one by one, the monitor answers each with
True (alarm: block this client) or False; a blocked client's later requests are dropped; an
attack counts as detected when an attacker's client id is flagged before the attacker's
100th query has been answered; a benign stream counts as a false alarm when any client in it
is flagged. NumPy only.
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np

BUDGET = 100


class Victim:
    """The deployed MLP (64-128-128-10) from victim.npz; probs(x) gives its softmax outputs."""

    def __init__(self, source: str | Path | Mapping[str, np.ndarray]) -> None:
        """source: the path of victim.npz, or its arrays (w1 b1 w2 b2 w3 b3) by name."""
        if isinstance(source, Mapping):
            weights = dict(source)
        else:
            with np.load(source, allow_pickle=False) as w:
                weights = {name: w[name] for name in w.files}
        self.layers = [
            (weights[f"w{i}"].astype(np.float64), weights[f"b{i}"].astype(np.float64)) for i in (1, 2, 3)
        ]

    def probs(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float64).reshape(-1, 64)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < 2:
                h = np.maximum(h, 0.0)
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def load_stream(path: str | Path) -> list[dict]:
    """Requests in arrival order: {"client", "x" (n, 64), "probs" (n, 10), "attacker"}."""
    with np.load(path, allow_pickle=False) as data:
        bounds = np.concatenate([[0], np.cumsum(data["sizes"])])
        return [
            {
                "client": str(data["clients"][i]),
                "x": data["x"][bounds[i] : bounds[i + 1]],
                "probs": data["probs"][bounds[i] : bounds[i + 1]],
                "attacker": bool(data["attacker"][i]),
            }
            for i in range(len(data["sizes"]))
        ]


def replay(monitor, requests: list[dict], budget: int = BUDGET) -> dict:
    """Feed the requests to monitor.observe; report what the grader would count."""
    blocked: set[str] = set()
    attacker_queries = 0
    detected_at = None
    benign_flagged: list[str] = []
    for request in requests:
        if request["client"] in blocked:
            continue
        if request["attacker"]:
            attacker_queries += len(request["x"])
        alarm = monitor.observe(request["client"], request["x"], request["probs"])
        if not isinstance(alarm, (bool, np.bool_)):
            raise TypeError(f"observe() must return True or False, not {type(alarm).__name__}")
        if not alarm:
            continue
        blocked.add(request["client"])
        if request["attacker"] and detected_at is None and attacker_queries <= budget:
            detected_at = attacker_queries
        elif not request["attacker"]:
            benign_flagged.append(request["client"])
    return {
        "detected_at": detected_at,
        "benign_flagged": benign_flagged,
        "attacker_queries": attacker_queries,
    }
