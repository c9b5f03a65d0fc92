"""Reference solution with the Adversarial Robustness Toolbox: KnockoffNets steals the model
through an ART BlackBoxClassifier wrapped around the metered oracle (queries chosen to cover
the pool with k-means), the stolen copy is refined on the unlabelled pool with labels spread
from the answers (1-nearest neighbour, no extra query), then ART's ProjectedGradientDescent
on the copy for the transfer attack."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch
from art.attacks.evasion import ProjectedGradientDescent
from art.attacks.extraction import KnockoffNets
from art.estimators.classification import BlackBoxClassifier, PyTorchClassifier
from sklearn.cluster import KMeans
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, LAB["assets"])  # surrogate.py and oracle_client.py live in the assets
from oracle_client import query
from surrogate import Surrogate

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)
ASSETS = Path(LAB["assets"])
BUDGET = int(LAB["query_budget"])
pool = np.load(ASSETS / "pool.npy")
x_attack = np.load(ASSETS / "x_attack.npy")[LAB["attack_rows"]]

centres = KMeans(n_clusters=BUDGET, n_init=1, random_state=0).fit(pool).cluster_centers_
chosen = np.unique([int(np.argmin(((pool - c) ** 2).sum(axis=1))) for c in centres])


answers: list[tuple[np.ndarray, np.ndarray]] = []  # every (input, label) the oracle gave


def oracle_one_hot(x: np.ndarray) -> np.ndarray:
    labels = query(x.astype(np.float32))
    answers.append((x, labels))
    return np.eye(10, dtype=np.float32)[labels]


victim = BlackBoxClassifier(oracle_one_hot, input_shape=(64,), nb_classes=10, clip_values=(0.0, 1.0))
model = Surrogate()
thief = PyTorchClassifier(
    model=model,
    loss=torch.nn.CrossEntropyLoss(),
    optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
    input_shape=(64,),
    nb_classes=10,
    clip_values=(0.0, 1.0),
    device_type="cpu",
)
knockoff = KnockoffNets(
    classifier=victim,
    batch_size_fit=16,
    batch_size_query=len(chosen),
    nb_epochs=150,
    nb_stolen=len(chosen),
    sampling_strategy="random",
    verbose=False,
)
stolen = knockoff.extract(x=pool[chosen], thieved_classifier=thief)

# No new query: the oracle's answers, spread to the whole pool by 1-nearest neighbour.
asked = np.concatenate([x for x, _ in answers])
answered = np.concatenate([y for _, y in answers])
pseudo = KNeighborsClassifier(n_neighbors=1).fit(asked, answered).predict(pool)
stolen.fit(pool, np.eye(10, dtype=np.float32)[pseudo], batch_size=32, nb_epochs=25, verbose=False)
model.eval()
torch.save(model.state_dict(), "surrogate.pt")

pgd = ProjectedGradientDescent(
    stolen, norm=np.inf, eps=0.15, eps_step=0.15 / 12, max_iter=30, batch_size=len(x_attack), verbose=False
)
np.save("adv_transfer.npy", pgd.generate(x=x_attack).astype(np.float32), allow_pickle=False)
