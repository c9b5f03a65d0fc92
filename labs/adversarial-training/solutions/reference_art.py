"""Reference solution with the Adversarial Robustness Toolbox: AdversarialTrainerMadryPGD."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import sys
from pathlib import Path

import numpy as np
import torch
from art.defences.trainer import AdversarialTrainerMadryPGD
from art.estimators.classification import PyTorchClassifier

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import DigitCNN

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)
ASSETS = Path(LAB["assets"])
order = list(LAB["class_order"])
x_train = np.load(ASSETS / "x_train.npy")
y_train = np.array([order.index(d) for d in range(10)])[np.load(ASSETS / "y_train.npy")]

model = DigitCNN()
classifier = PyTorchClassifier(
    model=model,
    loss=torch.nn.CrossEntropyLoss(),
    optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
    input_shape=(1, 8, 8),
    nb_classes=10,
    clip_values=(0.0, 1.0),
    device_type="cpu",
)
trainer = AdversarialTrainerMadryPGD(
    classifier, nb_epochs=12, batch_size=64, eps=0.12, eps_step=0.03, max_iter=5, num_random_init=1
)
trainer.fit(x_train, y_train)
model.eval()
torch.save(model.state_dict(), "robust_model.pt")
