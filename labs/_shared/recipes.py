"""Helpers of the labs' asset recipes: the digits splits, writing files, the command line.

Recipes put the `labs/` folder on sys.path and import this as `_shared.recipes`; they run
with the sandbox runtime (numpy, scikit-learn), one thread, deterministically. Nothing here
is downloaded: the digits ship inside scikit-learn.
"""

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

SHARED_DIR = Path(__file__).resolve().parent


def digits(*, flat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 bundled 8x8 digits: float32 in [0, 1], (N, 1, 8, 8) or (N, 64); int64 labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)
    return (x.reshape(len(x), 64) if flat else x[:, None, :, :]), data.target.astype(np.int64)


def split(x: np.ndarray, y: np.ndarray, seed: int, test_size: float = 0.3) -> tuple[np.ndarray, ...]:
    """Stratified split (x_a, x_b, y_a, y_b), the same for the same seed."""
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed % (2**32)))


def train_val_test(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """70 % training, the rest halved: (x_train, y_train, x_val, y_val, x_test, y_test)."""
    x_train, x_rest, y_train, y_rest = split(x, y, seed)
    x_val, x_test, y_val, y_test = split(x_rest, y_rest, seed + 1, test_size=0.5)
    return x_train, y_train, x_val, y_val, x_test, y_test


def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits as float64 (N, 64) ink levels 0..16 and int64 labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def fit_logistic(x: np.ndarray, y: np.ndarray):
    """The labs' multinomial logistic regression (C 1, up to 2,000 iterations), fitted."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000).fit(x, y)


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write one array as .npy, never pickled."""
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def save_arrays(folder: Path, **arrays: np.ndarray) -> None:
    """Write each keyword as `<name>.npy` in folder (created if missing), C-contiguous."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        save_npy(folder / f"{name}.npy", np.ascontiguousarray(array))


def write_json(
    path: Path, data: object, *, indent: int | None = 2, sort_keys: bool = True, ascii_only: bool = True
) -> None:
    """JSON with a final newline: stable bytes for stable checksums."""
    path.write_text(json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=ascii_only) + "\n")


def finish(hidden_dir: Path, meta: dict) -> None:
    """Write the recipe's hidden meta.json and print it (the build log shows it)."""
    write_json(hidden_dir / "meta.json", meta)
    print(json.dumps(meta, sort_keys=True))


def install_shared(public_dir: Path, *modules: str) -> None:
    """Copy the named `_shared` modules into the public assets, for a public model.py that uses them."""
    target = public_dir / SHARED_DIR.name
    target.mkdir(parents=True, exist_ok=True)
    for name in ("__init__", *modules):
        shutil.copyfile(SHARED_DIR / f"{name}.py", target / f"{name}.py")


def run(main: Callable[[Path, Path], None]) -> None:
    """The recipes' command line: `recipe.py PUBLIC_DIR HIDDEN_DIR`."""
    if len(sys.argv) != 3:
        sys.exit("usage: recipe.py PUBLIC_DIR HIDDEN_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))


def tabular(
    n_samples: int, n_features: int, n_classes: int, *, seed: int, flip_y: float, class_sep: float
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic tabular records (15 informative features, 4 redundant), standardised: float32, int64."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=15,
        n_redundant=4,
        n_classes=n_classes,
        n_clusters_per_class=2,
        flip_y=flip_y,
        class_sep=class_sep,
        random_state=seed % (2**31),
    )
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32), y.astype(np.int64)


SAMPLE_CANARY_PREFIX = "/tmp/mlrange-sample-canary-"


def sample_canary(name: str) -> tuple[str, str]:
    """Where a public sample's payload writes, and what, if it is ever loaded: it only appends
    "payload ran" to a file named for the sample in /tmp (learners' tests can look for it)."""
    return SAMPLE_CANARY_PREFIX + name, "payload ran"
