"""Naive solution: 'noise_multiplier 1.0 is the usual default' without accounting. Expected:
over the budget, so no tier (utility and audit are not awarded over budget)."""

import json

config = {
    "noise_multiplier": 1.0,
    "max_grad_norm": 1.0,
    "batch_size": 64,
    "epochs": 30,
    "lr": 0.5,
    "momentum": 0.0,
}
with open("dp_config.json", "w") as f:
    json.dump(config, f)
