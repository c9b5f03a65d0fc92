"""Reference solution: Madry PGD adversarial training (5-step PGD, random start, epsilon 0.12)."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import DigitCNN

torch.set_num_threads(1)
torch.manual_seed(0)
ASSETS = Path(LAB["assets"])
order = list(LAB["class_order"])
x_train = torch.from_numpy(np.load(ASSETS / "x_train.npy"))
y_train = torch.from_numpy(np.array([order.index(d) for d in range(10)])[np.load(ASSETS / "y_train.npy")])
EPSILON, STEPS, EPOCHS = 0.12, 5, 20  # train a little above the evaluation epsilon of 0.1


def pgd(model, x, y):
    step = 2.5 * EPSILON / STEPS
    low, high = (x - EPSILON).clamp(0, 1), (x + EPSILON).clamp(0, 1)
    adv = (x + torch.empty_like(x).uniform_(-EPSILON, EPSILON)).clamp(0, 1)
    for _ in range(STEPS):
        adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(adv), y), adv)
        adv = torch.min(torch.max(adv.detach() + step * grad.sign(), low), high)
    return adv.detach()


model = DigitCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for _ in range(EPOCHS):
    order_ = torch.randperm(len(x_train))
    for start in range(0, len(x_train), 64):
        batch = order_[start : start + 64]
        model.eval()
        adv = pgd(model, x_train[batch], y_train[batch])
        model.train()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(adv), y_train[batch]).backward()
        optimizer.step()
model.eval()
torch.save(model.state_dict(), "robust_model.pt")
