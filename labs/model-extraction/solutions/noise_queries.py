"""Naive solution: spend the budget on uniform-noise queries, train on them, attack with PGD.
Noise is far from the victim's input distribution: the copy agrees poorly and transfers poorly."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # surrogate.py and oracle_client.py live in the assets
from oracle_client import query
from surrogate import Surrogate

torch.set_num_threads(1)
torch.manual_seed(0)
ASSETS = Path(LAB["assets"])
x_attack = np.load(ASSETS / "x_attack.npy")[LAB["attack_rows"]]

x = np.random.default_rng(0).random((int(LAB["query_budget"]), 64)).astype(np.float32)
y = torch.from_numpy(query(x))
model = Surrogate()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for _ in range(300):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), y).backward()
    optimizer.step()
model.eval()
torch.save(model.state_dict(), "surrogate.pt")

original = torch.from_numpy(x_attack)
with torch.no_grad():
    target = model(original).argmax(1)
adversarial = original.clone()
for _ in range(30):
    adversarial.requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model(adversarial), target)
    (gradient,) = torch.autograd.grad(loss, adversarial)
    step = adversarial.detach() + 0.0125 * gradient.sign()
    adversarial = torch.min(torch.max(step, (original - 0.15).clamp(0, 1)), (original + 0.15).clamp(0, 1))
np.save("adv_transfer.npy", adversarial.numpy().astype(np.float32), allow_pickle=False)
