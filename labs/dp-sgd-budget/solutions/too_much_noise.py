"""Partial solution: private, but far more noise than the budget needs. Expected: epsilon and
audit tiers, not utility (so it does not pass)."""

import json

config = {
    "noise_multiplier": 20.0,
    "max_grad_norm": 1.0,
    "batch_size": 250,
    "epochs": 30,
    "lr": 1.0,
    "momentum": 0.0,
}
with open("dp_config.json", "w") as f:
    json.dump(config, f)
