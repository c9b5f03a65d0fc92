# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Detect model extraction in live query traffic
#
# Your digit classifier is served behind an API. Write `Monitor`: the API gateway calls
# `monitor.observe(client_id, inputs, probs)` for every request as it arrives and blocks the
# client when it returns `True`. Catch extraction attackers before their 100th query; never
# flag normal customers. Read the brief first. `LAB["assets"]` is the read-only assets folder,
# `LAB["profile"]` your deployment's customer profile. Keep demo and calibration code under
# `if __name__ == "__main__":` - the grader loads this code with another `__name__`.

# %%
import json
import sys
from pathlib import Path

import numpy as np

ASSETS = Path(LAB["assets"])
PROFILE = LAB["profile"]["name"]


class Monitor:
    """One instance watches one stream of traffic (all clients of the API)."""

    def __init__(self, config: dict, x_train: np.ndarray) -> None:
        self.config = config  # what you wrote to monitor_config.json
        self.x_train = x_train  # float32 (1257, 64): the victim's training digits
        self.queries: dict[str, int] = {}

    def observe(self, client_id: str, inputs: np.ndarray, probs: np.ndarray) -> bool:
        """inputs: float32 (n, 64) in [0, 1]; probs: the victim's float32 (n, 10) softmax outputs.

        Return True to raise an alarm for client_id (it is blocked), False to let it go on.
        """
        self.queries[client_id] = self.queries.get(client_id, 0) + len(inputs)
        # TODO: your detector. Never alarming runs, but scores nothing.
        return False


# %%
if __name__ == "__main__":
    sys.path.insert(0, LAB["assets"])  # streams.py lives in the read-only assets folder
    from streams import load_stream, replay

    x_train = np.load(ASSETS / "x_train.npy")
    config = {"profile": PROFILE}  # TODO: calibrate on benign_<your profile>_*.npz
    Path("monitor_config.json").write_text(json.dumps(config))
    for path in sorted((ASSETS / "examples").glob("*.npz")):
        if path.name.startswith("benign_") and not path.name.startswith(f"benign_{PROFILE}_"):
            continue  # other deployments' customers: not yours
        result = replay(Monitor(config, x_train), load_stream(path))
        print(
            f"{path.name:28} attacker flagged after {result['detected_at']} queries; "
            f"benign clients flagged: {len(result['benign_flagged'])}"
        )
