"""Reference solution: cover the pool with k-means, query the cluster medoids, propagate the
labels to the whole unlabelled pool (1-nearest neighbour), train the surrogate on it, then a
hand-written PGD on the surrogate for the transfer attack."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, LAB["assets"])  # surrogate.py and oracle_client.py live in the assets
from oracle_client import query, status
from surrogate import Surrogate

torch.set_num_threads(1)
torch.manual_seed(0)
ASSETS = Path(LAB["assets"])
BUDGET = int(LAB["query_budget"])
pool = np.load(ASSETS / "pool.npy")
x_attack = np.load(ASSETS / "x_attack.npy")[LAB["attack_rows"]]

# 1. Spend the budget on inputs that cover the victim's input distribution.
centres = KMeans(n_clusters=BUDGET, n_init=1, random_state=0).fit(pool).cluster_centers_
chosen = np.unique([int(np.argmin(((pool - c) ** 2).sum(axis=1))) for c in centres])
labels = query(pool[chosen])
print("oracle:", status())

# 2. Propagate the answers to the unlabelled pool, keep the queried labels exact.
pseudo = KNeighborsClassifier(n_neighbors=1).fit(pool[chosen], labels).predict(pool)
pseudo[chosen] = labels

# 3. Train the surrogate.
model = Surrogate()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
xs, ys = torch.from_numpy(pool), torch.from_numpy(pseudo.astype(np.int64))
for _ in range(25):
    order = torch.randperm(len(xs))
    for start in range(0, len(xs), 32):
        batch = order[start : start + 32]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
        optimizer.step()
model.eval()
torch.save(model.state_dict(), "surrogate.pt")


# 4. Transfer attack: untargeted PGD on the surrogate, projected on the epsilon-ball and [0, 1].
def pgd(x: np.ndarray, epsilon: float = 0.15, steps: int = 30) -> np.ndarray:
    original = torch.from_numpy(x)
    with torch.no_grad():
        target = model(original).argmax(1)
    low, high = (original - epsilon).clamp(0, 1), (original + epsilon).clamp(0, 1)
    adversarial = original.clone()
    for _ in range(steps):
        adversarial.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(adversarial), target)
        (gradient,) = torch.autograd.grad(loss, adversarial)
        adversarial = torch.min(
            torch.max(adversarial.detach() + 2.5 * epsilon / steps * gradient.sign(), low), high
        )
    return adversarial.numpy().astype(np.float32)


np.save("adv_transfer.npy", pgd(x_attack), allow_pickle=False)
