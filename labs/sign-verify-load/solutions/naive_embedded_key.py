"""Naive solution: verifies the signature with the public key the envelope carries.

Signs the release correctly and catches every tampered file, but an attacker who signs with
their own key and ships that key in the envelope gets through. Expected: sign, genuine,
integrity and format tiers; not the trust tier.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors


def verify_and_load(model: bytes, signature: bytes, trusted_keys: dict) -> dict | None:
    try:
        env = json.loads(signature)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(env["public_key"]))
        public.verify(base64.b64decode(env["signature"]), model)
        return dict(load_safetensors(model))
    except Exception:
        return None


if __name__ == "__main__":
    assets = Path(LAB["assets"])
    tensors = load_safetensors((assets / "model.safetensors").read_bytes())
    release = save_safetensors(tensors, metadata={"release_id": LAB["release_id"]})
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    envelope = {
        "format": "mlrange-signature/1",
        "alg": "ed25519",
        "key_id": hashlib.sha256(raw).hexdigest()[:16],
        "public_key": base64.b64encode(raw).decode(),
        "signature": base64.b64encode(key.sign(release)).decode(),
    }
    Path("release.safetensors").write_bytes(release)
    Path("release.sig").write_text(json.dumps(envelope))
