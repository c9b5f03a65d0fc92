"""Model and DP-SGD trainer of the dp-sgd-budget lab (the grader runs exactly this code).

`train_dp(config, x, y, seed)` trains the MLP with Opacus (Poisson sampling, per-sample
clipping, Gaussian noise) and returns the model and the epsilon that Opacus' RDP accountant
gives for DELTA. `check_config` says what is wrong with a configuration, or nothing.
"""

import math
import warnings

import numpy as np
import torch
from torch import nn

from _shared.nets import MLP

N_FEATURES = 40
N_CLASSES = 4
DELTA = 1e-5
MAX_STEPS = 2000  # grading time: epochs * ceil(n / batch_size) may not exceed this

# key: (type, low, high); numbers must lie in [low, high]
CONFIG_FIELDS = {
    "noise_multiplier": (float, 0.0, 100.0),
    "max_grad_norm": (float, 1e-3, 100.0),
    "batch_size": (int, 16, 1000),
    "epochs": (int, 1, 100),
    "lr": (float, 1e-5, 10.0),
    "momentum": (float, 0.0, 0.99),
}


class TabularMLP(MLP):
    """40 - 64 - 64 - 4, ReLU activations (no BatchNorm: Opacus needs per-sample gradients)."""

    def __init__(self) -> None:
        super().__init__(N_FEATURES, 64, 64, N_CLASSES)


def _field_problem(key: str, value: object) -> str | None:
    kind, low, high = CONFIG_FIELDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} must be a number"
    if kind is int and value != int(value):
        return f"{key} must be an integer"
    if not math.isfinite(value) or not low <= value <= high:
        return f"{key} must lie in [{low:g}, {high:g}]"
    return None


def check_config(config: object, n_train: int) -> str | None:
    """None when the configuration is usable, else a message that says what to fix."""
    if not isinstance(config, dict):
        return "the configuration must be a JSON object"
    unknown = sorted(set(config) - set(CONFIG_FIELDS))
    missing = sorted(set(CONFIG_FIELDS) - set(config))
    problems = [f"unknown keys {unknown}; allowed: {sorted(CONFIG_FIELDS)}"] if unknown else []
    problems += [f"missing keys {missing}"] if missing else []
    problems += [p for key in CONFIG_FIELDS if key in config and (p := _field_problem(key, config[key]))]
    if not problems:
        steps = int(config["epochs"]) * math.ceil(n_train / int(config["batch_size"]))
        if steps > MAX_STEPS:
            problems.append(
                f"epochs * ceil({n_train} / batch_size) = {steps} steps; at most {MAX_STEPS} are allowed"
            )
    return problems[0] if problems else None


def train_dp(config: dict, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[TabularMLP, float]:
    """Train with DP-SGD as configured; return (model in eval mode, epsilon at DELTA).

    noise_multiplier 0 trains without noise and reports epsilon = inf.
    """
    from opacus import PrivacyEngine

    torch.manual_seed(seed)
    model = TabularMLP()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=float(config["lr"]), momentum=float(config["momentum"])
    )
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)),
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=int(config["batch_size"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus warns that secure_mode (a CSPRNG) is off
        engine = PrivacyEngine(accountant="rdp")
        model, optimizer, loader = engine.make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=float(config["noise_multiplier"]),
            max_grad_norm=float(config["max_grad_norm"]),
            poisson_sampling=True,
            noise_generator=torch.Generator().manual_seed(seed + 1),
        )
        # Poisson sampling draws its batches from torch's global generator, seeded above
        model.train()
        for _ in range(int(config["epochs"])):
            for xb, yb in loader:
                if len(xb) == 0:
                    continue
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(xb), yb).backward()
                optimizer.step()
        epsilon = float(engine.get_epsilon(DELTA)) if config["noise_multiplier"] > 0 else math.inf
    model.eval()
    return model._module, epsilon


def predict_logits(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).double().numpy()
