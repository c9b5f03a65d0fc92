"""Deterministic asset recipe of the extraction-monitor lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime, one thread).
Trains the victim MLP (64-128-128-10) on scikit-learn's bundled digits (nothing is downloaded)
and writes:
public/  victim.npz (the defender's own model), x_train.npy, y_train.npy (its training data),
         examples/: benign streams for every traffic profile and attack streams of the public
         families (with labels), streams.py (loader and replay helper), README.txt
hidden/  victim.npz, x_train.npy (passed to the learner's Monitor), benign_x.npy, benign_y.npy
         (the customers' digits the grader augments),
         attack_x.npy (the attackers' own digits), meta.json
The test split is cut in three: public example traffic, hidden customers, hidden attackers.
Same inputs give bit-identical files: fixed seeds, one thread, deterministic algorithms.
"""

import shutil
from pathlib import Path

import numpy as np
import torch
import traffic

from _shared.nets import deterministic, mlp, train_classifier
from _shared.recipes import digits, finish, run, save_arrays, split

HERE = Path(__file__).resolve().parent

SEED = 20251129
EPOCHS = 40
BATCH_SIZE = 32
N_PUBLIC_TRAFFIC = 140
N_ATTACKER = 120
BENIGN_EXAMPLES = 3
ATTACK_EXAMPLES = 2


def save_stream(path: Path, stream: list[traffic.Request], family: str) -> None:
    sizes = np.array([len(r.x) for r in stream], dtype=np.int32)
    np.savez(
        path,
        x=np.concatenate([r.x for r in stream]).astype(np.float32),
        probs=np.concatenate([r.probs for r in stream]).astype(np.float32),
        sizes=sizes,
        clients=np.array([r.client for r in stream], dtype="<U16"),
        attacker=np.array([r.attacker for r in stream], dtype=bool),
        family=np.array(family, dtype="<U16"),
    )


def main(public_dir: Path, hidden_dir: Path) -> None:
    deterministic()
    x_train, x_test, y_train, y_test = split(*digits(flat=True), SEED)
    model = train_classifier(
        lambda: mlp(64, 128, 128, 10), x_train, y_train, seed=SEED, epochs=EPOCHS, batch_size=BATCH_SIZE
    )
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    weights = {}
    for i, layer in enumerate(linears, start=1):
        weights[f"w{i}"] = layer.weight.detach().numpy().T.astype(np.float32).copy()
        weights[f"b{i}"] = layer.bias.detach().numpy().astype(np.float32).copy()
    victim = traffic.Victim(weights)
    accuracy = float((victim.labels(x_test) == y_test).mean())

    pub_x, rest_x, pub_y, rest_y = split(x_test, y_test, SEED, test_size=len(x_test) - N_PUBLIC_TRAFFIC)
    benign_x, attack_x, benign_y, _attack_y = split(rest_x, rest_y, SEED, test_size=N_ATTACKER)
    for out in (public_dir, hidden_dir):
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / "victim.npz", **weights)
    save_arrays(public_dir, x_train=x_train, y_train=y_train)
    save_arrays(hidden_dir, x_train=x_train, benign_x=benign_x, benign_y=benign_y, attack_x=attack_x)

    examples = public_dir / "examples"
    examples.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    names = sorted(traffic.PROFILES)
    for name in names:
        for i in range(BENIGN_EXAMPLES):
            stream = traffic.benign_stream(rng, pub_x, pub_y, traffic.PROFILES[name])
            save_stream(examples / f"benign_{name}_{i}.npz", traffic.label_stream(stream, victim), "benign")
    for family in traffic.PUBLIC_FAMILIES:
        for i in range(ATTACK_EXAMPLES):
            profile = traffic.PROFILES[names[int(rng.integers(len(names)))]]
            stream = traffic.attack_stream(
                family, rng, attack_pool=pub_x, benign_x=pub_x, benign_y=pub_y, profile=profile, victim=victim
            )
            save_stream(examples / f"attack_{family}_{i}.npz", traffic.label_stream(stream, victim), family)
    shutil.copyfile(HERE / "streams.py", public_dir / "streams.py")
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Detect model extraction in live query traffic'.\n"
        "victim.npz      the deployed MLP's weights (w1 b1 w2 b2 w3 b3; streams.Victim evaluates it)\n"
        f"x_train.npy     float32 ({len(x_train)}, 64) in [0, 1]: the victim's training digits\n"
        "y_train.npy     int64 labels of x_train\n"
        "examples/       benign_<profile>_<i>.npz: normal traffic of each deployment profile;\n"
        "                attack_<family>_<i>.npz: attacker traffic mixed with benign customers.\n"
        "                Arrays: x (N, 64), probs (N, 10), sizes (requests), clients, attacker\n"
        "                (per request; only the examples carry it), family.\n"
        "streams.py      load_stream(path) -> list of requests, replay(monitor, requests)\n"
    )
    meta = {
        "seed": SEED,
        "victim_test_accuracy": round(accuracy, 4),
        "train": len(x_train),
        "public_traffic": len(pub_x),
        "benign_pool": len(benign_x),
        "attacker_pool": len(attack_x),
        "torch": torch.__version__.split("+")[0],
    }
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
