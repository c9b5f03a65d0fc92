"""Shared pieces of the federated-secure-aggregation lab: the model, the client split, the
fixed-point encoding. Learners import it from the lab assets; the grader imports its own copy.

Model weights travel as ONE flat float32 vector (`get_vector` / `set_vector`), in the order
of `model.parameters()`: that is what `local_update` receives and returns.
"""

import os
import tempfile

import numpy as np
import torch
from torch import nn


def _point_torch_caches_at_a_writable_folder() -> None:
    """Inside the grader your code may write only to its working folder, not to /tmp, and
    creating a torch optimizer creates torch's compile-cache folder under the temp folder."""
    try:
        with tempfile.TemporaryFile():
            return
    except OSError:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.getcwd(), ".torchinductor"))


_point_torch_caches_at_a_writable_folder()

NUM_CLASSES = 10
MODULUS = 2**32
"""Secure aggregation works on integers modulo 2**32 (numpy uint32 arithmetic wraps there)."""
SCALE = 2**16
"""Fixed-point scale: a float v is encoded as round(v * SCALE) mod 2**32."""


class DigitMLP(nn.Module):
    """64 - 32 - 10 MLP with ReLU for 8x8 digits flattened to 64 values in [0, 1] (2,410 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


NUM_PARAMETERS = sum(p.numel() for p in DigitMLP().parameters())


def get_vector(model: nn.Module) -> np.ndarray:
    """The model's parameters as one flat float32 vector."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().astype(np.float32)


def set_vector(model: nn.Module, vector: np.ndarray) -> nn.Module:
    """Copy a flat vector (as returned by get_vector) into the model's parameters; returns the model."""
    flat = torch.as_tensor(np.asarray(vector, dtype=np.float32).copy())
    torch.nn.utils.vector_to_parameters(flat, model.parameters())
    return model


def initial_weights(seed: int) -> np.ndarray:
    """A freshly initialised model's flat weights (PyTorch's default initialisation, seeded)."""
    torch.manual_seed(seed)
    return get_vector(DigitMLP())


def accuracy(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of the model with these flat weights."""
    model = set_vector(DigitMLP(), weights).eval()
    with torch.no_grad():
        predictions = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).argmax(1).numpy()
    return float((predictions == y).mean())


def client_split(y: np.ndarray, num_clients: int, partition_seed: int) -> list[np.ndarray]:
    """Non-IID split: every client holds exactly two digit classes (indices into y).

    The classes are shuffled with partition_seed and dealt out in pairs, so each class sits
    on at least one client; a class held by several clients is divided evenly among them.
    """
    rng = np.random.default_rng(partition_seed)
    order = rng.permutation(NUM_CLASSES)
    slots = [int(order[i % NUM_CLASSES]) for i in range(2 * num_clients)]
    holders: dict[int, list[int]] = {c: [] for c in range(NUM_CLASSES)}
    for client in range(num_clients):
        holders[slots[2 * client]].append(client)
        holders[slots[2 * client + 1]].append(client)
    parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
    for label in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(y == label))
        for chunk, client in zip(np.array_split(members, len(holders[label])), holders[label], strict=True):
            parts[client].append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def fedavg_round(weights: np.ndarray, clients, local_update) -> np.ndarray:
    """One round of plain FedAvg (no secure aggregation): sample-weighted mean of client results.

    clients: list of (x, y) pairs; local_update(weights, x, y) returns a client's new weights.
    """
    results, sizes = [], []
    for x, y in clients:
        results.append(np.asarray(local_update(weights.copy(), x, y), dtype=np.float64))
        sizes.append(len(y))
    share = np.asarray(sizes, dtype=np.float64) / float(sum(sizes))
    return (np.stack(results) * share[:, None]).sum(axis=0).astype(np.float32)


def encode(values: np.ndarray) -> np.ndarray:
    """Fixed-point encoding: round(values * SCALE) mod 2**32, as uint32."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * SCALE).astype(np.int64)
    return (scaled % MODULUS).astype(np.uint32)


def decode(encoded: np.ndarray) -> np.ndarray:
    """Inverse of encode for values in [-2**15, 2**15): uint32 -> signed -> float64 / SCALE."""
    signed = np.asarray(encoded, dtype=np.uint32).view(np.int32).astype(np.float64)
    return signed / SCALE
