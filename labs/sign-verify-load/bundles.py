"""Signed model bundles for the sign-verify-load lab: genuine, tampered, untrusted, disguised.

A bundle is a model file (safetensors) plus a signature envelope, JSON:
    {"format": "mlrange-signature/1", "alg": "ed25519", "key_id": KEY_ID,
     "public_key": base64(raw 32 bytes), "signature": base64(64 bytes)}
The signature is Ed25519 over the exact bytes of the model file; KEY_ID is the first 16
hex digits of sha256(raw public key). The envelope's "public_key" is informational: the
verifier must use the key it already trusts under that KEY_ID.

Used by the recipe (public samples, fixed seed) and the grader (fresh bundles from the
secret grader seed). Nothing here unpickles anything.
"""

import base64
import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from safetensors.numpy import save as save_safetensors

FORMAT = "mlrange-signature/1"
LAYERS = ("encoder", "attention", "mlp", "head", "norm", "embed")


@dataclass(frozen=True)
class Bundle:
    """One test case: the model bytes, the envelope bytes, the truth (never shown as such)."""

    name: str
    model: bytes
    signature: bytes
    genuine: bool
    family: str
    tier: str  # the tier that scores this case
    tensors: dict | None = None  # what a genuine bundle must load to


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def new_key(rng: random.Random) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def envelope(
    model: bytes,
    signer: Ed25519PrivateKey,
    *,
    claimed_key_id: str | None = None,
    alg: str = "ed25519",
) -> bytes:
    public = raw_public_key(signer)
    data = {
        "format": FORMAT,
        "alg": alg,
        "key_id": claimed_key_id or key_id(public),
        "public_key": base64.b64encode(public).decode(),
        "signature": base64.b64encode(signer.sign(model)).decode() if alg == "ed25519" else "",
    }
    return json.dumps(data, indent=1).encode()


def random_tensors(rng: random.Random) -> dict[str, np.ndarray]:
    state = np.random.default_rng(rng.randrange(2**31))
    tensors = {}
    for layer in rng.sample(LAYERS, 3):
        rows, cols = rng.randint(2, 16), rng.randint(2, 16)
        dtype = rng.choice((np.float32, np.float32, np.float16))
        tensors[f"{layer}.weight"] = state.standard_normal((rows, cols)).astype(dtype)
        tensors[f"{layer}.bias"] = state.standard_normal(rows).astype(dtype)
    tensors["step"] = np.array([rng.randint(1, 10_000)], dtype=np.int64)
    return tensors


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    return save_safetensors(tensors, metadata=metadata)


def _header_length(model: bytes) -> int:
    return 8 + int.from_bytes(model[:8], "little")


def _flip_data_byte(rng: random.Random, model: bytes) -> bytes:
    start = _header_length(model)
    position = rng.randrange(start, len(model))
    return model[:position] + bytes([model[position] ^ 0x01]) + model[position + 1 :]


def _edit_metadata(model: bytes) -> bytes:
    end = _header_length(model)
    header = model[8:end]
    edited = header.replace(b'"license":"research"', b'"license":"commerce"')
    assert edited != header
    assert len(edited) == len(header)
    return model[:8] + edited + model[end:]


def _pickle_model(canary: tuple[str, str]) -> bytes:
    """A torch checkpoint (a pickle in a zip) whose payload, when loaded, appends line to path."""
    import torch

    path, line = canary

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({path!r}, 'ab', 0).write({(line + chr(10)).encode()!r})",))

    buffer = io.BytesIO()
    torch.save({"encoder.weight": torch.zeros(2, 2), "config": Payload()}, buffer)
    return buffer.getvalue()


def _bad_header(size: int) -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}})
    padded = header.encode() + b" " * (-len(header) % 8)
    return len(padded).to_bytes(8, "little") + padded + bytes(size)


def build_bundles(
    rng: random.Random, canary: Callable[[str], tuple[str, str]]
) -> tuple[dict[str, bytes], list[Bundle]]:
    """Trusted keys (key_id -> raw public key) and the cases, shuffled.

    A disguised pickle's payload, when loaded, appends a line to a file: (absolute path, line)
    = canary(<nn>), its two-digit case number. The grader passes _shared.canary.CanaryPipe.target
    (a FIFO it reads, which no process that runs the payload can take back).
    """
    trusted = [new_key(rng), new_key(rng)]
    attacker = new_key(rng)
    trusted_keys = {key_id(raw_public_key(k)): raw_public_key(k) for k in trusted}
    first_id = key_id(raw_public_key(trusted[0]))
    bundles: list[Bundle] = []
    counter = iter(range(1000))

    def name() -> str:
        return f"model-{next(counter):02d}-{rng.getrandbits(24):06x}"

    def genuine_model() -> tuple[bytes, dict]:
        tensors = random_tensors(rng)
        metadata = {"license": "research"}  # one key: safetensors orders several at random
        return safetensors_bytes(tensors, metadata), tensors

    originals = []
    for index in range(4):
        model, tensors = genuine_model()
        signer = trusted[index % 2]
        bundles.append(Bundle(name(), model, envelope(model, signer), True, "genuine", "genuine", tensors))
        originals.append((model, signer))

    def add(family: str, tier: str, model: bytes, signature: bytes) -> None:
        bundles.append(Bundle(name(), model, signature, False, family, tier))

    (m0, s0), (m1, s1), (m2, s2), (m3, s3) = originals
    add("tampered-data", "integrity", _flip_data_byte(rng, m0), envelope(m0, s0))
    add("tampered-metadata", "integrity", _edit_metadata(m1), envelope(m1, s1))
    add("swapped-signature", "integrity", m2, envelope(m3, s3))
    add("truncated", "integrity", m3[: len(m3) - rng.randint(1, 16)], envelope(m3, s3))
    add("appended", "integrity", m2 + b"\x00" * rng.randint(1, 16), envelope(m2, s2))
    forged, _ = genuine_model()
    add("untrusted-key", "trust", forged, envelope(forged, attacker))
    add("embedded-key", "trust", forged, envelope(forged, attacker, claimed_key_id=first_id))
    add("alg-none", "trust", forged, envelope(forged, attacker, claimed_key_id=first_id, alg="none"))
    garbage = rng.choice((b"not json at all", b'{"format": "mlrange-signature/1", "alg": "ed25519"}'))
    add("malformed-envelope", "trust", forged, garbage)
    short = json.loads(envelope(m0, s0))
    short["signature"] = base64.b64encode(base64.b64decode(short["signature"])[:63]).decode()
    add("short-signature", "trust", m0, json.dumps(short).encode())
    pickled = _pickle_model(canary(f"{len(bundles):02d}"))
    add("pickle-signed-by-trusted-key", "format", pickled, envelope(pickled, trusted[0]))
    pickled = _pickle_model(canary(f"{len(bundles):02d}"))
    add("pickle-signed-by-attacker", "format", pickled, envelope(pickled, attacker, claimed_key_id=first_id))
    bad = _bad_header(rng.randint(8, 64))
    add("bad-safetensors-header", "format", bad, envelope(bad, trusted[1]))
    rng.shuffle(bundles)
    return trusted_keys, bundles
