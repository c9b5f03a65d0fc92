"""Naive solution: ordinary training on clean images only. Expected: the clean tier only."""

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

model = DigitCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model.train()
for _ in range(30):
    permutation = torch.randperm(len(x_train))
    for start in range(0, len(x_train), 64):
        batch = permutation[start : start + 64]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
        optimizer.step()
model.eval()
torch.save(model.state_dict(), "robust_model.pt")
