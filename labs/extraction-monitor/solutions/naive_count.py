"""Naive monitor: a fixed per-client query quota (flag any client past 80 queries).

Catches every single-id attacker before its 100th query, but normal customers send more than
80 digits too, so benign streams are flagged and no tier counts; sybils stay under the quota.
"""

import json
from pathlib import Path

import numpy as np


class Monitor:
    def __init__(self, config: dict, x_train: np.ndarray) -> None:
        self.quota = int(config["quota"])
        self.queries: dict[str, int] = {}

    def observe(self, client_id: str, inputs: np.ndarray, probs: np.ndarray) -> bool:
        self.queries[client_id] = self.queries.get(client_id, 0) + len(inputs)
        return self.queries[client_id] > self.quota


if __name__ == "__main__":
    Path("monitor_config.json").write_text(json.dumps({"quota": 80}))
