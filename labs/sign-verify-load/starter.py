# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Sign, verify and safely load model artifacts
#
# Two jobs. (1) Publish: sign `model.safetensors` as your release, with your release id
# `LAB["release_id"]` in its metadata, and write `release.safetensors` and `release.sig`.
# (2) Consume: write `verify_and_load(model, signature, trusted_keys)` that returns the
# tensors of a genuine bundle and `None` for anything else. Read the brief first. The grader
# imports your code in a separate process: keep demo code under `if __name__ == "__main__":`.

# %%
import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors


def key_id(public_key: bytes) -> str:
    """First 16 hex digits of sha256(raw 32-byte public key)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def verify_and_load(model: bytes, signature: bytes, trusted_keys: dict) -> dict | None:
    """Tensors (name -> numpy array) of a genuine bundle; None to reject.

    model: the file's bytes; signature: the envelope's bytes (JSON);
    trusted_keys: key_id -> raw 32-byte Ed25519 public key.
    """
    # TODO: verify, then load safely. Rejecting everything runs, but scores nothing.
    return None


# %%
if __name__ == "__main__":
    assets = Path(LAB["assets"])
    tensors = load_safetensors((assets / "model.safetensors").read_bytes())
    print("model tensors:", {name: array.shape for name, array in tensors.items()})
    # TODO (publish): save the tensors with metadata {"release_id": LAB["release_id"]},
    # sign the exact bytes with a fresh Ed25519 key, write release.safetensors and release.sig.
    _unused = (Ed25519PrivateKey, Ed25519PublicKey, Encoding, PublicFormat, save_safetensors, base64)

    samples = assets / "samples"
    trusted = {
        k: base64.b64decode(v) for k, v in json.loads((samples / "trusted_keys.json").read_text()).items()
    }
    labels = json.loads((samples / "labels.json").read_text())
    right = 0
    for name, label in sorted(labels.items()):
        model = (samples / f"{name}.safetensors").read_bytes()
        envelope = (samples / f"{name}.sig").read_bytes()
        loaded = verify_and_load(model, envelope, trusted)
        right += (loaded is not None) == (label == "genuine")
        print(f"{name}  {label:8} -> {'loaded' if loaded is not None else 'rejected'}")
    print(f"{right}/{len(labels)} samples handled correctly")
