"""Unsafe solution: checks the trusted key properly, then falls back to torch.load.

"The signature is valid, so the file is safe" is the mistake: a trusted signer (or a
stolen key) can sign a pickle. Its payload runs in the verifier; the grader's canary sees
it. Does not sign a release. Expected: the genuine tier only.
"""

import base64
import io
import json

import numpy as np
import torch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from safetensors.numpy import load as load_safetensors


def verify_and_load(model: bytes, signature: bytes, trusted_keys: dict) -> dict | None:
    try:
        env = json.loads(signature)
        if env.get("alg") != "ed25519" or env.get("key_id") not in trusted_keys:
            return None
        raw = base64.b64decode(env["signature"])
        Ed25519PublicKey.from_public_bytes(trusted_keys[env["key_id"]]).verify(raw, model)
    except Exception:
        return None
    try:
        return dict(load_safetensors(model))
    except Exception:
        state = torch.load(io.BytesIO(model), weights_only=False)  # the anti-pattern
        return {k: np.asarray(v) for k, v in state.items() if isinstance(v, torch.Tensor)}
