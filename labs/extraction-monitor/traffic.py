"""Query traffic of the extraction-monitor lab: benign customers and model-extraction attackers.

Used by the recipe (public example streams) and by the grader (fresh streams from its secret
seed). NumPy and SciPy only. A stream is a list of requests to the victim's API, in arrival
order; each request is one client's batch of 8x8 digit images (float32 (n, 64) in [0, 1]).

The victim is the lab's MLP (64-128-128-10), evaluated here in NumPy from its weights.
Attackers are simulated with what they would really do against a label-only API:
  noise      random images (uniform, sparse, blobs)                      Tramer et al. 2016
  jacobian   Jacobian-based augmentation around a few seed digits        Papernot et al. 2017
  synthetic  samples from a model of the data distribution (PCA-Gaussian, mixup)
  knockoff   "public" images from another distribution (letters, textures)  Orekondy et al. 2019
  boundary   line search to the decision boundary, then tiny probes around it (grader only)
  sybil      one of the above spread over several client ids
Benign customers send augmented digits (a pool the attacker does not control) in small batches,
with the occasional retry of a request that timed out.
"""

from dataclasses import dataclass, field

import numpy as np
import streams
from scipy import ndimage

BUDGET = 100  # an attacker must be flagged before its 100th query is answered
ATTACK_QUERIES = 110  # attacker traffic generated per stream (a little beyond the budget)
PUBLIC_FAMILIES = ("noise", "jacobian", "synthetic", "knockoff", "sybil")
GRADED_FAMILIES = ("noise", "jacobian", "synthetic", "knockoff", "boundary", "sybil")
PROFILES = {
    "clinic": {"noise": 0.0, "gain": 1.0, "hot_classes": [0, 1, 7], "hot_share": 0.5, "max_batch": 4},
    "bank": {"noise": 0.03, "gain": 0.9, "hot_classes": [2, 5, 9], "hot_share": 0.6, "max_batch": 8},
    "post": {"noise": 0.06, "gain": 0.85, "hot_classes": [3, 4, 6], "hot_share": 0.7, "max_batch": 6},
    "school": {"noise": 0.09, "gain": 0.8, "hot_classes": [1, 8, 9], "hot_share": 0.5, "max_batch": 3},
}


@dataclass
class Request:
    client: str
    x: np.ndarray  # float32 (n, 64) in [0, 1]
    attacker: bool = False
    probs: np.ndarray | None = field(default=None, repr=False)


class Victim(streams.Victim):
    """The lab's MLP in NumPy (the public streams.Victim), with its labels."""

    def labels(self, x: np.ndarray) -> np.ndarray:
        return self.probs(x).argmax(axis=1)


def client_id(rng: np.random.Generator) -> str:
    return "c-" + "".join(rng.choice(list("0123456789abcdef"), size=8))


# --------------------------------------------------------------------------- benign traffic
def augment(rng: np.random.Generator, base: np.ndarray, profile: dict) -> np.ndarray:
    """A customer's scan of each base digit: sub-pixel shift, ink gain, sensor noise."""
    out = np.empty_like(base, dtype=np.float64)
    for i, image in enumerate(base.reshape(-1, 8, 8)):
        shifted = ndimage.shift(
            image.astype(np.float64), rng.uniform(-0.6, 0.6, size=2), order=1, mode="constant"
        )
        out[i] = shifted.reshape(64) * profile["gain"] * rng.uniform(0.85, 1.0)
    out += rng.normal(0.0, profile["noise"], size=out.shape) if profile["noise"] > 0 else 0.0
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _batches(rng: np.random.Generator, x: np.ndarray, max_batch: int) -> list[np.ndarray]:
    out, start = [], 0
    while start < len(x):
        size = int(rng.integers(1, max_batch + 1))
        out.append(x[start : start + size])
        start += size
    return out


def benign_requests(
    rng: np.random.Generator, x: np.ndarray, profile: dict, order: np.ndarray, retry_rate: float = 0.03
) -> list[np.ndarray]:
    """One customer's requests over the base images `x[order]`, retrying some requests."""
    batches = _batches(rng, augment(rng, x[order], profile), profile["max_batch"])
    out = []
    for batch in batches:
        out.append(batch)
        if rng.random() < retry_rate:
            out.append(batch.copy())  # the client timed out and sent the same request again
    return out


def _skewed_order(rng: np.random.Generator, y: np.ndarray, profile: dict, n: int) -> np.ndarray:
    hot = np.isin(y, profile["hot_classes"])
    weights = np.where(
        hot, profile["hot_share"] / max(hot.sum(), 1), (1 - profile["hot_share"]) / max((~hot).sum(), 1)
    )
    return rng.choice(len(y), size=min(n, len(y)), replace=False, p=weights / weights.sum())


def interleave(
    rng: np.random.Generator, per_client: list[tuple[str, list[np.ndarray], bool]]
) -> list[Request]:
    """Merge several clients' request sequences in a random arrival order (each keeps its own order)."""
    queues = [[Request(cid, b, attacker) for b in seq] for cid, seq, attacker in per_client if seq]
    out: list[Request] = []
    while queues:
        sizes = np.array([len(q) for q in queues], dtype=np.float64)
        pick = int(rng.choice(len(queues), p=sizes / sizes.sum()))
        out.append(queues[pick].pop(0))
        if not queues[pick]:
            queues.pop(pick)
    return out


def benign_stream(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, profile: dict) -> list[Request]:
    """1-4 customers, 150-260 queries in all, one of them sending at least 120."""
    total = int(rng.integers(150, 261))
    n_clients = int(rng.integers(1, 5))
    order = _skewed_order(rng, y, profile, total)
    shares = rng.dirichlet(np.ones(n_clients)) * (total - 120)
    sizes = np.floor(shares).astype(int)
    sizes[0] += 120
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    per_client = [
        (client_id(rng), benign_requests(rng, x, profile, order[bounds[i] : bounds[i + 1]]), False)
        for i in range(n_clients)
    ]
    return interleave(rng, per_client)


# --------------------------------------------------------------------------- attacker helpers
class _Surrogate:
    """The attacker's small substitute MLP (64-32-10), trained by full-batch gradient descent."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.w1 = rng.normal(0, 0.2, (64, 32))
        self.b1 = np.zeros(32)
        self.w2 = rng.normal(0, 0.2, (32, 10))
        self.b2 = np.zeros(10)

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int = 150, lr: float = 0.5) -> None:
        x = x.astype(np.float64)
        onehot = np.eye(10)[y]
        for _ in range(steps):
            h = np.maximum(x @ self.w1 + self.b1, 0)
            z = h @ self.w2 + self.b2
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = (p - onehot) / len(x)
            gh = (g @ self.w2.T) * (h > 0)
            self.w2 -= lr * h.T @ g
            self.b2 -= lr * g.sum(0)
            self.w1 -= lr * x.T @ gh
            self.b1 -= lr * gh.sum(0)

    def grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d logit_y / d x for each row (the Jacobian row Papernot et al. step along)."""
        h = x.astype(np.float64) @ self.w1 + self.b1
        return ((h > 0) * self.w2[:, y].T) @ self.w1.T


def _split(rng: np.random.Generator, x: np.ndarray, low: int = 1, high: int = 10) -> list[np.ndarray]:
    return _batches(rng, x, int(rng.integers(low, high + 1)))


def attack_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.choice(["uniform", "sparse", "blobs"])
    if kind == "uniform":
        x = rng.random((n, 64))
    elif kind == "sparse":
        x = (rng.random((n, 64)) < rng.uniform(0.2, 0.4)) * rng.random((n, 64))
    else:
        x = ndimage.gaussian_filter(rng.random((n, 8, 8)), sigma=(0, 1.0, 1.0)).reshape(n, 64)
        x = (x - x.min(1, keepdims=True)) / (np.ptp(x, 1, keepdims=True) + 1e-9)
    return x.astype(np.float32)


def attack_jacobian(rng: np.random.Generator, seeds: np.ndarray, victim: Victim, n: int) -> np.ndarray:
    """Papernot et al.'s Jacobian-based dataset augmentation with a reservoir."""
    lam = rng.uniform(0.05, 0.15)
    current = seeds.astype(np.float64)
    queried, labels = [current], [victim.labels(current)]
    surrogate = _Surrogate(rng)
    total = len(current)
    while total < n:
        x_all, y_all = np.concatenate(queried), np.concatenate(labels)
        surrogate.fit(x_all, y_all)
        parents = x_all[rng.choice(len(x_all), size=min(len(x_all), n - total), replace=False)]
        parent_labels = victim.labels(parents)
        step = lam * np.sign(surrogate.grad(parents, parent_labels))
        step *= rng.choice([-1.0, 1.0], size=(len(parents), 1))  # periodic step size, sign flips
        current = np.clip(parents + step, 0.0, 1.0)
        queried.append(current)
        labels.append(victim.labels(current))
        total += len(current)
    return np.concatenate(queried)[:n].astype(np.float32)


def attack_synthetic(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    """Samples from the attacker's model of the digit distribution, fitted on a few public digits."""
    kind = rng.choice(["gaussian", "mixup"])
    data = pool[rng.choice(len(pool), size=min(len(pool), 80), replace=False)].astype(np.float64)
    if kind == "gaussian":
        mean = data.mean(0)
        _u, s, vt = np.linalg.svd(data - mean, full_matrices=False)
        k = 12
        z = rng.normal(size=(n, k)) * (s[:k] / np.sqrt(len(data)))
        x = mean + z @ vt[:k]
    else:
        a = data[rng.integers(0, len(data), n)]
        b = data[rng.integers(0, len(data), n)]
        lam = rng.uniform(0.3, 0.7, size=(n, 1))
        x = lam * a + (1 - lam) * b
    return np.clip(x, 0.0, 1.0).astype(np.float32)


_STROKES = {
    "A": [(0, 7, 3.5, 0), (3.5, 0, 7, 7), (1.7, 4, 5.3, 4)],
    "B": [(1, 0, 1, 7), (1, 0, 5, 1.5), (5, 1.5, 1, 3.5), (1, 3.5, 6, 5.2), (6, 5.2, 1, 7)],
    "C": [(6, 0.5, 1, 1.5), (1, 1.5, 1, 5.5), (1, 5.5, 6, 6.5)],
    "E": [(1, 0, 1, 7), (1, 0, 6, 0), (1, 3.5, 5, 3.5), (1, 7, 6, 7)],
    "F": [(1, 0, 1, 7), (1, 0, 6, 0), (1, 3.5, 5, 3.5)],
    "H": [(1, 0, 1, 7), (6, 0, 6, 7), (1, 3.5, 6, 3.5)],
    "K": [(1, 0, 1, 7), (6, 0, 1, 4), (2.5, 3, 6, 7)],
    "L": [(1, 0, 1, 7), (1, 7, 6, 7)],
    "M": [(0.5, 7, 0.5, 0), (0.5, 0, 3.5, 4), (3.5, 4, 6.5, 0), (6.5, 0, 6.5, 7)],
    "N": [(1, 7, 1, 0), (1, 0, 6, 7), (6, 7, 6, 0)],
    "T": [(0.5, 0, 6.5, 0), (3.5, 0, 3.5, 7)],
    "V": [(0.5, 0, 3.5, 7), (3.5, 7, 6.5, 0)],
    "W": [(0, 0, 1.7, 7), (1.7, 7, 3.5, 2.5), (3.5, 2.5, 5.3, 7), (5.3, 7, 7, 0)],
    "X": [(0.5, 0, 6.5, 7), (6.5, 0, 0.5, 7)],
    "Y": [(0.5, 0, 3.5, 3.5), (6.5, 0, 3.5, 3.5), (3.5, 3.5, 3.5, 7)],
    "Z": [(0.5, 0, 6.5, 0), (6.5, 0, 0.5, 7), (0.5, 7, 6.5, 7)],
}


def _render(strokes: list[tuple[float, ...]], rng: np.random.Generator) -> np.ndarray:
    """Anti-aliased strokes on an 8x8 grid, randomly scaled, sheared and thickened."""
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float64)
    scale, shear = rng.uniform(0.75, 1.0), rng.uniform(-0.2, 0.2)
    dx, dy = rng.uniform(-0.5, 0.5, size=2)
    width = rng.uniform(0.5, 0.9)
    image = np.zeros((8, 8))
    for x0, y0, x1, y1 in strokes:
        p0 = np.array([x0 * scale + shear * y0 + dx + 0.5, y0 * scale + dy + 0.3])
        p1 = np.array([x1 * scale + shear * y1 + dx + 0.5, y1 * scale + dy + 0.3])
        d = p1 - p0
        t = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
        dist = np.hypot(xx - p0[0] - t * d[0], yy - p0[1] - t * d[1])
        image = np.maximum(image, np.clip(1.0 - (dist - width) / 0.8, 0, 1))
    return image.reshape(64)


def attack_knockoff(rng: np.random.Generator, n: int) -> np.ndarray:
    """Images from other public sources: rendered letters, or smooth natural-like textures."""
    kind = rng.choice(["letters", "textures"])
    if kind == "letters":
        keys = list(_STROKES)
        x = np.stack([_render(_STROKES[keys[rng.integers(len(keys))]], rng) for _ in range(n)])
    else:
        field_ = ndimage.gaussian_filter(rng.normal(size=(n, 24, 24)), sigma=(0, 2.5, 2.5))
        x = field_[:, ::3, ::3].reshape(n, 64)
        x = (x - x.min(1, keepdims=True)) / (np.ptp(x, 1, keepdims=True) + 1e-9)
    return (x * rng.uniform(0.8, 1.0)).astype(np.float32)


def attack_boundary(rng: np.random.Generator, pool: np.ndarray, victim: Victim, n: int) -> np.ndarray:
    """Binary search between digits of different classes, then tiny probes around the boundary."""
    out: list[np.ndarray] = []
    labels = victim.labels(pool)
    while sum(len(o) for o in out) < n:
        i, j = rng.choice(len(pool), size=2, replace=False)
        if labels[i] == labels[j]:
            continue
        a, b = pool[i].astype(np.float64), pool[j].astype(np.float64)
        out.append(np.stack([a, b]))
        lo, hi = 0.0, 1.0
        for _ in range(int(rng.integers(5, 8))):
            mid = (lo + hi) / 2
            point = (1 - mid) * a + mid * b
            out.append(point[None])
            if victim.labels(point[None])[0] == labels[i]:
                lo = mid
            else:
                hi = mid
        edge = (1 - lo) * a + lo * b
        probes = edge + rng.uniform(0.02, 0.08) * rng.normal(size=(int(rng.integers(3, 9)), 64)) / 8.0
        out.append(np.clip(probes, 0, 1))
    return np.concatenate(out)[:n].astype(np.float32)


# --------------------------------------------------------------------------- streams
def attacker_queries(
    family: str, rng: np.random.Generator, pool: np.ndarray, victim: Victim, n: int
) -> np.ndarray:
    if family == "noise":
        return attack_noise(rng, n)
    if family == "jacobian":
        seeds = pool[rng.choice(len(pool), size=int(rng.integers(10, 21)), replace=False)]
        return attack_jacobian(rng, seeds, victim, n)
    if family == "synthetic":
        return attack_synthetic(rng, pool, n)
    if family == "knockoff":
        return attack_knockoff(rng, n)
    if family == "boundary":
        return attack_boundary(rng, pool, victim, n)
    raise ValueError(f"unknown family {family!r}")


def attack_stream(
    family: str,
    rng: np.random.Generator,
    *,
    attack_pool: np.ndarray,
    benign_x: np.ndarray,
    benign_y: np.ndarray,
    profile: dict,
    victim: Victim,
    sybil_bases: tuple[str, ...] = ("jacobian",),
) -> list[Request]:
    """Attacker traffic (ATTACK_QUERIES queries) interleaved with 1-2 benign customers."""
    per_client: list[tuple[str, list[np.ndarray], bool]] = []
    if family == "sybil":
        base = str(rng.choice(list(sybil_bases)))
        x = attacker_queries(base, rng, attack_pool, victim, ATTACK_QUERIES)
        ids = [client_id(rng) for _ in range(int(rng.integers(4, 9)))]
        owner = rng.integers(0, len(ids), size=len(x))
        for k, cid in enumerate(ids):
            per_client.append((cid, _split(rng, x[owner == k], 1, 5), True))
    else:
        x = attacker_queries(family, rng, attack_pool, victim, ATTACK_QUERIES)
        per_client.append((client_id(rng), _split(rng, x), True))
    n_background = int(rng.integers(40, 121))
    order = _skewed_order(rng, benign_y, profile, n_background)
    for part in np.array_split(order, int(rng.integers(1, 3))):
        per_client.append((client_id(rng), benign_requests(rng, benign_x, profile, part), False))
    return interleave(rng, per_client)


def label_stream(stream: list[Request], victim: Victim) -> list[Request]:
    """Fill in the victim's softmax outputs for every request (what the API computed)."""
    if not stream:
        return stream
    sizes = [len(r.x) for r in stream]
    probs = victim.probs(np.concatenate([r.x for r in stream]))
    for request, chunk in zip(stream, np.split(probs, np.cumsum(sizes)[:-1]), strict=True):
        request.probs = chunk
    return stream
