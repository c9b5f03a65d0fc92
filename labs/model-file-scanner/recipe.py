"""Deterministic asset recipe of the model-file-scanner lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
public/  samples/: a few benign and malicious model files of the *known* families with
         samples/labels.json (name -> "benign" | "malicious"), README.txt
hidden/  meta.json (the grader builds a fresh corpus per grading from its secret seed)
The malicious samples' payloads only append a line to /tmp/mlrange-sample-canary-<name> if
loaded.
"""

import json
import random
from pathlib import Path

import torch
from corpus import BENIGN, MALICIOUS_HELD_OUT, MALICIOUS_KNOWN, build_corpus

from _shared.recipes import run, sample_canary, write_json

HERE = Path(__file__).resolve().parent

SEED = 20250611


def main(public_dir: Path, hidden_dir: Path) -> None:
    torch.set_num_threads(1)
    samples_dir = public_dir / "samples"
    samples_dir.mkdir(parents=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    files = build_corpus(random.Random(SEED), sample_canary, public=True)  # noqa: S311 -- test data
    labels = {}
    for file in sorted(files, key=lambda f: f.name):
        (samples_dir / file.name).write_bytes(file.data)
        labels[file.name] = "malicious" if file.malicious else "benign"
    write_json(samples_dir / "labels.json", labels, indent=1)
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Scan untrusted model files'.\n"
        "samples/             model files of the kinds the grader uses: raw pickles (.pkl, .pickle,\n"
        "                     .bin), torch checkpoints (.pt, .pth, .bin; zip and legacy format),\n"
        "                     numpy .npy files. DO NOT LOAD THEM: inspect their bytes.\n"
        "samples/labels.json  which samples are benign and which are malicious\n"
        "The malicious samples only write /tmp/mlrange-sample-canary-<name> when loaded; the\n"
        "grader's corpus holds other payload families that you have not seen.\n"
    )
    meta = {
        "seed": SEED,
        "samples": len(files),
        "sample_malicious": sum(f.malicious for f in files),
        "known_families": sorted(MALICIOUS_KNOWN),
        "held_out_families": sorted(MALICIOUS_HELD_OUT),
        "benign_families": sorted(BENIGN),
        "torch": torch.__version__.split("+")[0],
    }
    write_json(hidden_dir / "meta.json", meta)
    print(json.dumps({k: meta[k] for k in ("samples", "sample_malicious")}))


if __name__ == "__main__":
    run(main)
