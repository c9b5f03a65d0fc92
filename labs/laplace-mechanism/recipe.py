"""Asset recipe of the laplace-mechanism lab (nothing to train: the grader makes its own data).

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR. Writes public/README.txt (the function
contract) and hidden/meta.json (the grader's fixed test sizes). Every test input and every
privacy parameter the grader uses is drawn at grading time from its secret grader_seed.
"""

from pathlib import Path

from _shared.recipes import finish, run

CONTRACT = """\
Lab 'Implement the Laplace mechanism': there are no data files. Define, at the top level of
your code:

laplace_mechanism(true_answer, sensitivity, epsilon) -> numpy array
    true_answer: float64 array of any shape; returns an array of the same shape:
    true_answer + independent Laplace(0, sensitivity / epsilon) noise per element.

private_mean(values, lower, upper, epsilon) -> float
    values: 1-D float64 array; clip to [lower, upper], take the mean, release it with the
    Laplace mechanism at sensitivity (upper - lower) / len(values).
"""

META = {
    "mechanism_settings": 3,
    "mechanism_samples": 30000,
    "fresh_calls": 300,
    "mean_calls": 2000,
    "mean_size": 100,
}


def main(public_dir: Path, hidden_dir: Path) -> None:
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    (public_dir / "README.txt").write_text(CONTRACT)
    finish(hidden_dir, META)


if __name__ == "__main__":
    run(main)
