# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
"""Reference monitor: PRADA + out-of-distribution drift + cross-client near-duplicate linking.

1. PRADA (Juuti et al., EuroS&P 2019): for every client, the minimum L2 distance of each new
   query to its earlier queries of the same predicted class; natural traffic gives a roughly
   normal set of distances, synthetic probing (Jacobian augmentation, boundary search) does
   not. Shapiro-Wilk test of that set; alarm below a calibrated W.
2. Out-of-distribution drift: each query's mean distance to its 3 nearest training digits;
   a two-sample Kolmogorov-Smirnov test of the client's scores against the scores of our own
   benign traffic (calibrated per deployment profile) catches random noise, other-domain
   "knockoff" images (too far) and samples of a fitted model of the data (too typical).
3. Sybils: an attacker who spreads its queries over many client ids sends near-duplicates of
   other ids' queries (same predicted class). Such pairs link clients into groups; a binomial
   test of the group's near-duplicate rate against the benign rate, and PRADA over the
   group's pooled queries, flag every id of the group, however few queries each id sent.
Calibration runs in the kernel only (under __main__) and is handed in as monitor_config.json.
"""

import json
from pathlib import Path

import numpy as np
from scipy import stats

ASSETS = Path(LAB["assets"])


def knn_scores(x: np.ndarray, train: np.ndarray, k: int = 3) -> np.ndarray:
    d2 = (x * x).sum(1)[:, None] - 2.0 * x @ train.T + (train * train).sum(1)[None, :]
    d2 = np.partition(np.maximum(d2, 0.0), k, axis=1)[:, :k]
    return np.sqrt(d2).mean(1)


class Monitor:
    """observe(client_id, inputs (n, 64), probs (n, 10)) -> True to raise an alarm for the client."""

    def __init__(self, config: dict, x_train: np.ndarray) -> None:
        self.train = np.asarray(x_train, dtype=np.float64)
        self.reference = np.sort(np.asarray(config["ood_reference"], dtype=np.float64))
        self.w_threshold = float(config["prada_w"])
        self.alpha = float(config["alpha"])
        self.near = float(config["near_distance"])
        self.near_rate = float(config["near_rate"])
        self.min_prada = int(config["min_prada"])
        self.min_ks = int(config["min_ks"])
        self.clients: dict[str, dict] = {}
        self.parent: list[int] = []  # union-find over client numbers: linked clients form a group
        self.history = np.zeros((0, 64))
        self.history_owner = np.zeros(0, dtype=np.int64)
        self.history_label = np.zeros(0, dtype=np.int64)

    def _root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def observe(self, client_id: str, inputs: np.ndarray, probs: np.ndarray) -> bool:
        x = np.asarray(inputs, dtype=np.float64).reshape(-1, 64)
        labels = np.asarray(probs).argmax(1)
        if client_id not in self.clients:
            self.clients[client_id] = {"id": len(self.parent), "x": [], "y": [], "dmin": [], "ood": []}
            self.parent.append(len(self.parent))
            self.counts = [*getattr(self, "counts", []), [0, 0]]  # per client: queries, near-duplicates
        state = self.clients[client_id]
        me = state["id"]
        state["ood"].extend(knn_scores(x, self.train).tolist())
        for row, label in zip(x, labels, strict=True):
            # PRADA: distance to the closest earlier query of this client with the same predicted class
            same = [p for p, c in zip(state["x"], state["y"], strict=True) if c == label]
            if same:
                d = float(np.sqrt(((np.asarray(same) - row) ** 2).sum(1)).min())
                if d > 1e-6:  # an identical retry is not a new query
                    state["dmin"].append(d)
            state["x"].append(row)
            state["y"].append(int(label))
            # Sybils: a near-duplicate of another client's query (same class) links the two clients
            self.counts[me][0] += 1
            mask = (self.history_owner != me) & (self.history_label == label)
            if mask.any():
                d = np.sqrt(((self.history[mask] - row) ** 2).sum(1))
                j = int(d.argmin())
                if d[j] < self.near:
                    self.counts[me][1] += 1
                    other = int(self.history_owner[mask][j])
                    self.parent[self._root(other)] = self._root(me)
        self.history = np.vstack([self.history, x])
        self.history_owner = np.concatenate([self.history_owner, np.full(len(x), me)])
        self.history_label = np.concatenate([self.history_label, labels])
        return self._suspicious(state)

    def _group_dmin(self, group: list[int]) -> list[float]:
        """PRADA's distances over the whole group's queries, in arrival order."""
        mask = np.isin(self.history_owner, group)
        x, y = self.history[mask], self.history_label[mask]
        out = []
        for i in range(1, len(x)):
            same = y[:i] == y[i]
            if same.any():
                d = float(np.sqrt(((x[:i][same] - x[i]) ** 2).sum(1)).min())
                if d > 1e-6:
                    out.append(d)
        return out

    def _suspicious(self, state: dict) -> bool:
        root = self._root(state["id"])
        group = [i for i in range(len(self.parent)) if self._root(i) == root]
        n, near = (sum(self.counts[i][k] for i in group) for k in (0, 1))
        if near and stats.binom.sf(near - 1, n, self.near_rate) < self.alpha:
            return True
        if len(group) > 1 and n >= self.min_prada:
            pooled = self._group_dmin(group)
            if len(pooled) >= self.min_prada and stats.shapiro(pooled).statistic < self.w_threshold:
                return True
        if len(state["dmin"]) >= self.min_prada and stats.shapiro(state["dmin"]).statistic < self.w_threshold:
            return True
        if len(state["ood"]) >= self.min_ks:
            return bool(stats.ks_2samp(state["ood"], self.reference).pvalue < self.alpha)
        return False


if __name__ == "__main__":
    # Calibrate on our own profile's benign example traffic, then check on the attack examples.
    import sys

    sys.path.insert(0, LAB["assets"])
    from streams import load_stream, replay

    profile = LAB["profile"]["name"]
    train = np.load(ASSETS / "x_train.npy").astype(np.float64)
    benign = [load_stream(p) for p in sorted((ASSETS / "examples").glob(f"benign_{profile}_*.npz"))]
    scores = np.concatenate([knn_scores(r["x"].astype(np.float64), train) for s in benign for r in s])
    config = {
        "ood_reference": np.round(np.quantile(scores, np.linspace(0, 1, 301)), 4).tolist(),
        "prada_w": 0.80,  # PRADA's delta; the lowest W of benign clients we measured was 0.86
        "alpha": 1e-6,
        "near_distance": 0.8,
        "near_rate": 0.05,
        "min_prada": 20,
        "min_ks": 20,
    }
    Path("monitor_config.json").write_text(json.dumps(config))
    for path in sorted((ASSETS / "examples").glob("*.npz")):
        result = replay(Monitor(config, train), load_stream(path))
        print(path.name, result["detected_at"], result["benign_flagged"])
