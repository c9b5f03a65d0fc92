"""Deterministic asset recipe of the sign-verify-load lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
public/  model.safetensors (the model you release), samples/ (signed bundles of every kind:
         <name>.safetensors + <name>.sig, labels.json, trusted_keys.json), README.txt
hidden/  model.safetensors (the grader's copy), meta.json
Keys and tensors come from fixed seeds; nothing is downloaded.
"""

import base64
import random
from pathlib import Path

from bundles import build_bundles, random_tensors, safetensors_bytes

from _shared.recipes import finish, run, sample_canary, write_json

HERE = Path(__file__).resolve().parent

SEED = 20250612


def main(public_dir: Path, hidden_dir: Path) -> None:
    rng = random.Random(SEED)  # noqa: S311 -- test data, not crypto
    model = safetensors_bytes(random_tensors(rng), {"model": "release-candidate"})
    samples_dir = public_dir / "samples"
    samples_dir.mkdir(parents=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for out in (public_dir, hidden_dir):
        (out / "model.safetensors").write_bytes(model)
    trusted_keys, bundles = build_bundles(random.Random(SEED + 1), sample_canary)  # noqa: S311
    labels = {}
    for index, bundle in enumerate(sorted(bundles, key=lambda b: b.name)):
        name = f"sample-{index:02d}"
        (samples_dir / f"{name}.safetensors").write_bytes(bundle.model)
        (samples_dir / f"{name}.sig").write_bytes(bundle.signature)
        labels[name] = "genuine" if bundle.genuine else "reject"
    write_json(samples_dir / "labels.json", labels, indent=1)
    keys = {kid: base64.b64encode(raw).decode() for kid, raw in sorted(trusted_keys.items())}
    write_json(samples_dir / "trusted_keys.json", keys, indent=1, sort_keys=False)
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Sign, verify and safely load model artifacts'.\n"
        "model.safetensors         the model to release: sign it (see the brief)\n"
        "samples/<name>.safetensors, samples/<name>.sig   model files and signature envelopes\n"
        "samples/labels.json       genuine (must load) or reject\n"
        "samples/trusted_keys.json the keys the samples' verifier trusts: key_id -> base64 raw Ed25519 key\n"
        "Some samples are pickles in disguise: never load them with torch.load or pickle.\n"
    )
    meta = {"seed": SEED, "samples": len(bundles), "genuine": sum(b.genuine for b in bundles)}
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
