"""Reference solution: Ed25519 with `cryptography`, safe loading with `safetensors`.

Signs the release with a fresh key; verifies bundles against the trusted key named by the
envelope's key_id (never the key the envelope carries), then parses the file as safetensors
only. Anything unexpected is a rejection: fail closed.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import base64
import binascii
import hashlib
import json
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

MAX_ENVELOPE_BYTES = 4096


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def sign_file(model: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """The signature envelope of `model` (Ed25519 over its exact bytes)."""
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return json.dumps(
        {
            "format": "mlrange-signature/1",
            "alg": "ed25519",
            "key_id": key_id(public),
            "public_key": base64.b64encode(public).decode(),
            "signature": base64.b64encode(private_key.sign(model)).decode(),
        }
    ).encode()


def verify_and_load(model: bytes, signature: bytes, trusted_keys: dict) -> dict | None:  # noqa: PLR0911
    """The tensors of a genuine, trusted, safetensors model; None for anything else."""
    if len(signature) > MAX_ENVELOPE_BYTES:
        return None
    try:
        env = json.loads(signature)
        if not isinstance(env, dict) or env.get("format") != "mlrange-signature/1":
            return None
        if env.get("alg") != "ed25519":
            return None
        trusted = trusted_keys.get(env.get("key_id"))
        if not isinstance(trusted, bytes) or len(trusted) != 32:
            return None
        raw_signature = base64.b64decode(env.get("signature", ""), validate=True)
        if len(raw_signature) != 64:
            return None
        Ed25519PublicKey.from_public_bytes(trusted).verify(raw_signature, model)
    except (ValueError, TypeError, binascii.Error, InvalidSignature):
        return None
    try:
        tensors = load_safetensors(model)  # data only: no code, bounds-checked header
    except (SafetensorError, ValueError, OverflowError):
        return None
    return {name: np.ascontiguousarray(array) for name, array in tensors.items()}


if __name__ == "__main__":
    assets = Path(LAB["assets"])
    # 1. Sign your release: the model's tensors, your release id in the metadata.
    tensors = load_safetensors((assets / "model.safetensors").read_bytes())
    release = save_safetensors(tensors, metadata={"release_id": LAB["release_id"]})
    private_key = Ed25519PrivateKey.generate()
    Path("release.safetensors").write_bytes(release)
    Path("release.sig").write_bytes(sign_file(release, private_key))
    # 2. Check the verifier on the samples.
    samples = assets / "samples"
    trusted = {
        k: base64.b64decode(v) for k, v in json.loads((samples / "trusted_keys.json").read_text()).items()
    }
    labels = json.loads((samples / "labels.json").read_text())
    right = 0
    for name, label in sorted(labels.items()):
        loaded = verify_and_load(
            (samples / f"{name}.safetensors").read_bytes(), (samples / f"{name}.sig").read_bytes(), trusted
        )
        right += (loaded is not None) == (label == "genuine")
    print(f"{right}/{len(labels)} samples handled correctly")
