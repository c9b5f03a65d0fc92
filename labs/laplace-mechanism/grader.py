"""Trusted grader of the laplace-mechanism lab.

Calls the learner's `laplace_mechanism` and `private_mean` many times through
_shared.callee.LearnerProcess (a child process; JSON over a pipe) and tests them
statistically, with inputs and privacy parameters drawn from the secret grader_seed:

- mechanism: shape and dtype, noise centred, scale b = sensitivity / epsilon (mean |noise|
  within 4%; +-10% or half the noise fails by many standard errors) and the Laplace shape
  (Kolmogorov-Smirnov against Laplace(0, b): Gaussian noise fails);
- fresh: repeated calls give new, uncorrelated noise, elements of one call are independent,
  and two fresh processes do not produce the same noise (a fixed seed fails);
- clipped-mean: private_mean is centred on the mean of the *clipped* data (outliers far
  outside [lower, upper] would shift an unclipped mean by many standard errors) with scale
  (upper - lower) / (n * epsilon).
Each statistical line sits at 6 standard errors or more for a correct mechanism.
"""

from pathlib import Path

import numpy as np
from scipy import stats

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result

SETTINGS = 3
SAMPLES = 30_000
SCALE_TOLERANCE = 0.04  # relative, on mean |noise|: standard error 0.58% at 30,000 samples
KS_MIN_P = 1e-6
FRESH_CALLS = 300
MEAN_CALLS = 2000
MEAN_SIZE = 100
MEAN_SCALE_TOLERANCE = 0.10  # relative: standard error 2.2% at 2,000 calls
Z_LINE = 6.0


class PropertyError(Exception):
    """A statistical or contract test failed; the message says what to fix."""


def _array(value, shape, what: str) -> np.ndarray:
    if isinstance(value, list):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise PropertyError(f"{what} must return a numeric numpy array, not {type(value).__name__}.")
    if value.shape != tuple(shape):
        raise PropertyError(
            f"{what} returned shape {value.shape} for an input of shape {tuple(shape)}; keep the shape."
        )
    value = value.astype(np.float64)
    if not np.isfinite(value).all():
        raise PropertyError(f"{what} returned NaN or infinite values.")
    return value


def _scalar(value, what: str) -> float:
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        value = float(value.reshape(()))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PropertyError(f"{what} must return one number, not {type(value).__name__}.")
    if not np.isfinite(value):
        raise PropertyError(f"{what} returned NaN or an infinite value.")
    return float(value)


def test_mechanism(learner: LearnerProcess, rng: np.random.Generator) -> tuple[str, dict]:
    worst = {"scale_error": 0.0, "ks_p_min": 1.0}
    for setting in range(SETTINGS):
        sensitivity = float(rng.choice([0.5, 1.0, 2.0, 5.0]) * rng.uniform(0.8, 1.25))
        epsilon = float(rng.choice([0.1, 0.5, 1.0, 2.0]) * rng.uniform(0.8, 1.25))
        scale = sensitivity / epsilon
        shape = (SAMPLES // 100, 100) if setting == 1 else (SAMPLES,)
        truth = rng.normal(0.0, 50.0, size=shape).round(3)
        out = _array(
            learner.call("laplace_mechanism", truth, sensitivity, epsilon, timeout=20),
            shape,
            "laplace_mechanism",
        )
        noise = (out - truth).ravel()
        if np.all(noise == 0):
            raise PropertyError("laplace_mechanism returned the true answer unchanged: it adds no noise.")
        mean_abs = float(np.abs(noise).mean())
        error = mean_abs / scale - 1.0
        worst["scale_error"] = max(worst["scale_error"], abs(error), key=abs)
        centre_z = abs(noise.mean()) / (scale * np.sqrt(2.0 / noise.size))
        if centre_z > Z_LINE:
            raise PropertyError("The noise is not centred on zero: the mechanism must be unbiased.")
        if abs(error) > SCALE_TOLERANCE:
            raise PropertyError(
                f"With sensitivity {sensitivity:.3f} and epsilon {epsilon:.3f} the mean absolute noise is "
                f"{mean_abs:.4g}, {100 * error:+.1f}% off the Laplace scale b = sensitivity / epsilon "
                f"(tolerance {100 * SCALE_TOLERANCE:.0f}%). Check the scale you pass to the sampler."
            )
        p_value = float(stats.kstest(noise, stats.laplace(scale=scale).cdf).pvalue)
        worst["ks_p_min"] = min(worst["ks_p_min"], p_value)
        if p_value < KS_MIN_P:
            raise PropertyError(
                "The noise has the right size but not the Laplace shape (Kolmogorov-Smirnov test, "
                f"p = {p_value:.1e}): use Laplace noise, not Gaussian or uniform noise."
            )
    return (
        f"Shape, centring, scale (worst {100 * worst['scale_error']:+.1f}%) and Laplace shape all pass.",
        worst,
    )


def test_fresh(learner: LearnerProcess, source: Path, lab: dict, rng: np.random.Generator) -> str:
    truth = np.round(rng.uniform(-10, 10, size=2), 2)
    sensitivity, epsilon = 1.0, float(rng.uniform(0.5, 2.0))
    outs = np.array(
        [
            _array(learner.call("laplace_mechanism", truth, sensitivity, epsilon), (2,), "laplace_mechanism")
            for _ in range(FRESH_CALLS)
        ]
    )
    noise = outs - truth
    if np.all(noise == 0):
        raise PropertyError("laplace_mechanism returned the true answer unchanged: it adds no noise.")
    distinct = len(np.unique(noise[:, 0]))
    if distinct < FRESH_CALLS:
        raise PropertyError(
            f"{FRESH_CALLS} calls with the same input gave only {distinct} different outputs: do not re-seed "
            "the generator on every call; averaging repeated answers would strip the noise."
        )
    line = Z_LINE / np.sqrt(FRESH_CALLS)
    lag = float(np.corrcoef(noise[:-1, 0], noise[1:, 0])[0, 1])
    if abs(lag) > line:
        raise PropertyError(
            f"The noise of consecutive calls is correlated (r = {lag:.2f}): "
            "draw independent noise on every call."
        )
    across = float(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1])
    if abs(across) > line:
        raise PropertyError(
            f"The elements of one answer share their noise (r = {across:.2f}): draw one sample per element."
        )
    firsts = []
    for _ in range(2):  # two new processes, each asked first thing: a fixed seed repeats itself
        with LearnerProcess(source, lab=lab) as other:
            firsts.append(
                _array(
                    other.call("laplace_mechanism", truth, sensitivity, epsilon), (2,), "laplace_mechanism"
                )
            )
    if np.any(np.isclose(firsts[0], firsts[1], rtol=0, atol=1e-12)):
        raise PropertyError(
            "Two new processes produced exactly the same noise: the generator has a fixed seed, so anyone "
            "can recompute and subtract the noise. Seed from the OS (np.random.default_rng() with no seed)."
        )
    return (
        f"{FRESH_CALLS} calls gave fresh, uncorrelated noise; elements independent; new process, new noise."
    )


def test_mean(learner: LearnerProcess, rng: np.random.Generator) -> tuple[str, dict]:
    lower = float(rng.uniform(-5.0, 0.0))
    upper = lower + float(rng.uniform(5.0, 15.0))
    epsilon = float(rng.uniform(0.5, 2.0))
    values = rng.uniform(lower, upper, size=MEAN_SIZE)
    outliers = rng.choice(MEAN_SIZE, size=5, replace=False)
    values[outliers[:3]] = upper + rng.uniform(500, 1000, size=3)
    values[outliers[3:]] = lower - rng.uniform(100, 200, size=2)
    values = values.round(4)
    clipped = float(np.clip(values, lower, upper).mean())
    scale = (upper - lower) / (MEAN_SIZE * epsilon)
    outs = np.array(
        [
            _scalar(learner.call("private_mean", values, lower, upper, epsilon), "private_mean")
            for _ in range(MEAN_CALLS)
        ]
    )
    if np.all(outs == outs[0]):
        raise PropertyError("private_mean returned the same value on every call: it adds no fresh noise.")
    bias_z = abs(outs.mean() - clipped) / (scale * np.sqrt(2.0 / MEAN_CALLS))
    if bias_z > Z_LINE:
        raise PropertyError(
            "Over many calls private_mean does not centre on the mean of the clipped data: clip every value "
            "to [lower, upper] before averaging (outliers must not move the answer without limit)."
        )
    error = float(np.abs(outs - clipped).mean() / scale - 1.0)
    if abs(error) > MEAN_SCALE_TOLERANCE:
        raise PropertyError(
            f"private_mean's noise is {100 * error:+.0f}% off the right scale: the sensitivity of a mean "
            "of n values clipped to [lower, upper] is (upper - lower) / n."
        )
    return f"Centred on the clipped mean, scale within {100 * abs(error):.0f}%.", {"mean_scale_error": error}


def grade(ctx) -> dict:
    """Call the learner's functions in a child process and test them statistically."""
    rng = np.random.default_rng([int(ctx.params.get("grader_seed", 0)), 1729])
    source = Path(ctx.artifacts_dir) / "submission.py"
    lab = {"slug": "laplace-mechanism", "assets": str(ctx.public_dir), **ctx.params.get("variant", {})}
    checks: list[Check] = []
    metrics: dict[str, float] = {}
    results: dict[str, tuple[bool, str]] = {}
    try:
        learner = LearnerProcess(source, lab=lab)
    except LearnerCodeError as exc:
        learner, load_error = None, str(exc)
    else:
        load_error = None
    checks.append(
        Check(
            "code",
            "Your code loads",
            learner is not None,
            load_error or "Your code loaded in the grader's child process.",
        )
    )
    tests = [
        ("mechanism", lambda: test_mechanism(learner, rng)),
        ("fresh", lambda: test_fresh(learner, source, lab, rng)),
        ("clipped-mean", lambda: test_mean(learner, rng)),
    ]
    try:
        for name, run in tests:
            if learner is None:
                results[name] = (False, "Not scored: your code did not load (see above).")
                continue
            try:
                outcome = run()
                message, found = outcome if isinstance(outcome, tuple) else (outcome, {})
                metrics.update(found)
                results[name] = (True, message)
            except PropertyError as exc:
                results[name] = (False, str(exc))
            except LearnerCodeError as exc:
                results[name] = (False, f"Calling your code failed: {exc}.")
                learner.close()  # a fresh child for the next test, whatever state this one is in
                try:
                    learner = LearnerProcess(source, lab=lab)
                except LearnerCodeError:
                    learner = None
    finally:
        if learner is not None:
            learner.close()
    titles = {
        "mechanism": "Laplace noise of the right scale and shape",
        "fresh": "Fresh, independent noise on every call",
        "clipped-mean": "private_mean clips and calibrates",
    }
    for name, title in titles.items():
        passed, message = results[name]
        checks.append(Check(name, title, passed, message))
        metrics[f"{name}_passed"] = 1.0 if passed else 0.0
    return grade_result(checks, metrics)
