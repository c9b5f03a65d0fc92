"""Two-parameter logistic (2PL) item response theory on a quadrature grid, in pure Python.

Pure functions and small value objects, no Django: the web app and the simulation
benchmark (bench/assessment_sim) run exactly this code.

Model: P(correct | theta) = 1 / (1 + exp(-a (theta - b))), theta ~ N(0, 1) a priori.

Ability is estimated by EAP (expected a posteriori): the N(0, 1) prior times the
likelihood is evaluated on a grid (61 points over -4..4 by default), the posterior mean
is the estimate and the posterior standard deviation its standard error.

Partial credit: a response scored s in [0, 1] (multiple-choice with partial scoring,
ordering items) enters the likelihood as a fractional Bernoulli observation,
L = p^s (1 - p)^(1 - s). s = 1 and s = 0 give the usual 2PL terms; s = 0.5 is half a
success and half a failure. This is the quasi-likelihood used for fractional
logistic regression; it keeps one model for every item type.

Quantiles and band masses treat each grid point's mass as spread uniformly over its
cell [theta_i - h/2, theta_i + h/2], so interval ends are not snapped to grid points.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

GRID_POINTS = 61
GRID_MIN = -4.0
GRID_MAX = 4.0


def make_grid(points: int = GRID_POINTS, low: float = GRID_MIN, high: float = GRID_MAX) -> list[float]:
    step = (high - low) / (points - 1)
    return [low + i * step for i in range(points)]


DEFAULT_GRID: tuple[float, ...] = tuple(make_grid())


@dataclass(frozen=True)
class Band:
    """A level's interval on the ability scale: low <= theta < high."""

    slug: str
    low: float
    high: float


LEVEL_BANDS: tuple[Band, ...] = (
    Band("beginner", -math.inf, -1.0),
    Band("intermediate", -1.0, 0.0),
    Band("advanced", 0.0, 1.0),
    Band("expert", 1.0, math.inf),
)


def band_of(theta: float, bands: Sequence[Band] = LEVEL_BANDS) -> Band:
    for band in bands:
        if band.low <= theta < band.high:
            return band
    return bands[-1]


def p_correct(theta: float, a: float, b: float) -> float:
    z = a * (theta - b)
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def information(theta: float, a: float, b: float) -> float:
    """Fisher information of a 2PL item at theta: a^2 p (1 - p)."""
    p = p_correct(theta, a, b)
    return a * a * p * (1.0 - p)


@dataclass(frozen=True)
class Observation:
    """One scored response to an item with 2PL parameters a, b; score in [0, 1]."""

    a: float
    b: float
    score: float


@dataclass(frozen=True)
class Estimate:
    """A posterior summary: EAP theta, its posterior SD, a credible interval, the level."""

    theta: float
    se: float
    ci_low: float
    ci_high: float
    level: str
    confidence: float
    n_items: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "theta": round(self.theta, 4),
            "se": round(self.se, 4),
            "ci_low": round(self.ci_low, 4),
            "ci_high": round(self.ci_high, 4),
            "level": self.level,
            "confidence": round(self.confidence, 4),
            "n_items": self.n_items,
        }


class Posterior:
    """The ability posterior on a grid; `update` folds in one observation. Not thread-safe."""

    def __init__(self, grid: Sequence[float] = DEFAULT_GRID) -> None:
        self.grid = tuple(grid)
        self.log_weights = [-0.5 * t * t for t in self.grid]
        self.n = 0

    def update(self, obs: Observation) -> None:
        s = min(max(obs.score, 0.0), 1.0)
        for i, t in enumerate(self.grid):
            p = p_correct(t, obs.a, obs.b)
            p = min(max(p, 1e-12), 1.0 - 1e-12)
            self.log_weights[i] += s * math.log(p) + (1.0 - s) * math.log(1.0 - p)
        self.n += 1

    def weights(self) -> list[float]:
        top = max(self.log_weights)
        raw = [math.exp(w - top) for w in self.log_weights]
        total = sum(raw)
        return [w / total for w in raw]

    def mean_sd(self) -> tuple[float, float]:
        w = self.weights()
        mean = sum(wi * t for wi, t in zip(w, self.grid, strict=True))
        var = sum(wi * (t - mean) ** 2 for wi, t in zip(w, self.grid, strict=True))
        return mean, math.sqrt(max(var, 0.0))

    def _cells(self) -> list[tuple[float, float]]:
        g = self.grid
        if len(g) == 1:
            return [(g[0], g[0])]
        edges = [g[0] - (g[1] - g[0]) / 2]
        edges += [(g[i] + g[i + 1]) / 2 for i in range(len(g) - 1)]
        edges.append(g[-1] + (g[-1] - g[-2]) / 2)
        return [(edges[i], edges[i + 1]) for i in range(len(g))]

    def quantile(self, q: float) -> float:
        """The q-quantile of the posterior, mass spread uniformly over each grid cell."""
        cum = 0.0
        cells = self._cells()
        for wi, (lo, hi) in zip(self.weights(), cells, strict=True):
            if wi > 0 and cum + wi >= q:
                return lo + (hi - lo) * (q - cum) / wi
            cum += wi
        return cells[-1][1]

    def mass_between(self, low: float, high: float) -> float:
        total = 0.0
        for wi, (lo, hi) in zip(self.weights(), self._cells(), strict=True):
            overlap = min(hi, high) - max(lo, low)
            if overlap > 0:
                total += wi * overlap / (hi - lo) if hi > lo else wi
        return total

    def estimate(self, *, credible_mass: float = 0.90, bands: Sequence[Band] = LEVEL_BANDS) -> Estimate:
        mean, sd = self.mean_sd()
        tail = (1.0 - credible_mass) / 2
        band = band_of(mean, bands)
        return Estimate(
            theta=mean,
            se=sd,
            ci_low=self.quantile(tail),
            ci_high=self.quantile(1.0 - tail),
            level=band.slug,
            confidence=self.mass_between(band.low, band.high),
            n_items=self.n,
        )


def estimate(
    observations: Sequence[Observation],
    *,
    grid: Sequence[float] = DEFAULT_GRID,
    credible_mass: float = 0.90,
) -> Estimate:
    """EAP estimate from scored responses (empty: the prior, theta 0, se ~1)."""
    posterior = Posterior(grid)
    for obs in observations:
        posterior.update(obs)
    return posterior.estimate(credible_mass=credible_mass)


def interval_within_one_band(est: Estimate, bands: Sequence[Band] = LEVEL_BANDS) -> bool:
    """True when the credible interval lies inside a single level band."""
    return band_of(est.ci_low, bands) == band_of(est.ci_high, bands)


@dataclass(frozen=True)
class Candidate:
    """An item that may be served next: a stable id and its 2PL parameters."""

    id: str
    a: float
    b: float


def rank_by_information(theta: float, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Most informative first at theta; ties broken by id so the order is deterministic."""
    return sorted(candidates, key=lambda c: (-information(theta, c.a, c.b), c.id))


def select_randomesque(
    theta: float, candidates: Sequence[Candidate], *, rng: random.Random, top_k: int = 5
) -> Candidate | None:
    """Exposure control by the randomesque method: pick uniformly among the top_k items
    of highest Fisher information at theta (top_k=1 is plain maximum information)."""
    if not candidates:
        return None
    ranked = rank_by_information(theta, candidates)
    return rng.choice(ranked[: max(1, top_k)])


def fit_item(  # noqa: PLR0915 -- one Newton solver reads best in one piece
    thetas: Sequence[float],
    scores: Sequence[float],
    *,
    a0: float,
    b0: float,
    prior_sd_b: float = 2.0,
    prior_sd_log_a: float = 0.5,
    fit_a: bool = True,
    iterations: int = 50,
) -> tuple[float, float]:
    """Re-estimate one item's (a, b) from learners' abilities and their scores on it.

    Maximum a posteriori 2PL fit with the abilities held fixed (the "fixed-theta" step
    of joint estimation): Bernoulli (fractional for partial credit) likelihood in
    a, b, with weak normal priors centred on the current values (b ~ N(b0, 2^2),
    log a ~ N(log a0, 0.5^2)) so that few or extreme responses cannot run away.
    Solved by Newton-Raphson on (log a, b) with step halving.
    """
    la_prior, b_prior = math.log(a0), b0

    def objective(la: float, b: float) -> float:
        a = math.exp(la)
        total = 0.0
        for t, s in zip(thetas, scores, strict=True):
            p = min(max(p_correct(t, a, b), 1e-12), 1 - 1e-12)
            total += s * math.log(p) + (1 - s) * math.log(1 - p)
        total -= 0.5 * ((b - b_prior) / prior_sd_b) ** 2
        if fit_a:
            total -= 0.5 * ((la - la_prior) / prior_sd_log_a) ** 2
        return total

    la, b = la_prior, b_prior
    current = objective(la, b)
    for _ in range(iterations):
        a = math.exp(la)
        g_la = g_b = 0.0
        h_lala = h_bb = h_lab = 0.0
        for t, s in zip(thetas, scores, strict=True):
            p = p_correct(t, a, b)
            r = s - p
            w = p * (1 - p)
            d = t - b
            # logit = a * d; d logit / d la = a d ; d logit / d b = -a
            g_la += r * a * d
            g_b += -r * a
            h_lala += -w * (a * d) ** 2 + r * a * d
            h_bb += -w * a * a
            h_lab += w * a * a * d - r * a
        g_b -= (b - b_prior) / prior_sd_b**2
        h_bb -= 1 / prior_sd_b**2
        if fit_a:
            g_la -= (la - la_prior) / prior_sd_log_a**2
            h_lala -= 1 / prior_sd_log_a**2
            det = h_lala * h_bb - h_lab * h_lab
            if det <= 0 or h_lala >= 0:
                step_la, step_b = 0.0, -g_b / h_bb
            else:
                step_la = -(h_bb * g_la - h_lab * g_b) / det
                step_b = -(-h_lab * g_la + h_lala * g_b) / det
        else:
            step_la, step_b = 0.0, -g_b / h_bb
        scale = 1.0
        improved = False
        for _half in range(20):
            cand_la = min(max(la + scale * step_la, math.log(0.2)), math.log(4.0))
            cand_b = min(max(b + scale * step_b, -4.0), 4.0)
            value = objective(cand_la, cand_b)
            if value >= current - 1e-12:
                improved = True
                break
            scale /= 2
        if not improved:
            break
        moved = abs(cand_la - la) + abs(cand_b - b)
        la, b, current = cand_la, cand_b, value
        if moved < 1e-7:
            break
    return math.exp(la), b


def point_biserial(scores: Sequence[float], criterion: Sequence[float]) -> float | None:
    """Pearson correlation between item scores and a criterion (None if either is constant)."""
    n = len(scores)
    if n < 2:
        return None
    ms = sum(scores) / n
    mc = sum(criterion) / n
    sxy = sum((s - ms) * (c - mc) for s, c in zip(scores, criterion, strict=True))
    sxx = sum((s - ms) ** 2 for s in scores)
    syy = sum((c - mc) ** 2 for c in criterion)
    if sxx <= 0 or syy <= 0:
        return None
    return sxy / math.sqrt(sxx * syy)
