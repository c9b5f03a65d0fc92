"""Item response theory on a quadrature grid, in pure Python: the 2PL with a known guessing floor.

Pure functions and small value objects, no Django: the web app and the simulation
benchmark (bench/assessment_sim) run exactly this code.

Model: P(correct | theta) = c + (1 - c) / (1 + exp(-a (theta - b))), theta ~ N(0, 1) a
priori. a (discrimination) and b (difficulty) are the item's 2PL parameters; c is the
item's guessing floor, fixed by its format and never estimated: the chance that a learner
who does not know the answer picks the right one anyway (1/4 for a four-option single
choice, 1/2 for true/false, 0 for numeric, ordering and multiple select). c = 0 is the
plain 2PL. Without the floor a right answer to a true/false item counts as full evidence
of knowing, and the placement's confidence overstates its accuracy by ~15 points when
learners guess (bench/assessment_sim --engine-2pl); with it, a lucky guess weighs what
it is worth.

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

Level: the band holding the most posterior mass (the Bayes decision under 0-1 loss: it
maximises the probability that the level shown is the true one), and its confidence is
that mass, so the level, the confidence and the placement's stopping rule all read the
same posterior.

Several sub-skills at once (`JointPosterior`): a one-factor correlated prior,
theta_s = sqrt(rho) g + sqrt(1 - rho) delta_s with g, delta_s ~ N(0, 1) independent, so
each theta_s is N(0, 1) and any two correlate rho. The posterior is integrated exactly
on a grid for g (FACTOR_GRID) times the theta grid: given g the sub-skills are
independent, so each sub-skill's marginal costs one pass over (g, theta). rho = 0 gives
back the independent N(0, 1)-prior EAP exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from operator import mul

GRID_POINTS = 61
GRID_MIN = -4.0
GRID_MAX = 4.0


def make_grid(points: int = GRID_POINTS, low: float = GRID_MIN, high: float = GRID_MAX) -> list[float]:
    step = (high - low) / (points - 1)
    return [low + i * step for i in range(points)]


DEFAULT_GRID: tuple[float, ...] = tuple(make_grid())
FACTOR_GRID: tuple[float, ...] = tuple(make_grid(33))
MAX_CORRELATION = 0.95
NEGLIGIBLE_LOG = -40.0  # e^-40 ~ 4e-18: below double precision next to the largest term


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


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def p_correct(theta: float, a: float, b: float, c: float = 0.0) -> float:
    """P(right answer | theta): the 2PL curve lifted onto the guessing floor c."""
    return c + (1.0 - c) * _logistic(a * (theta - b))


def information(theta: float, a: float, b: float, c: float = 0.0) -> float:
    """Fisher information at theta: a^2 p (1 - p) for c = 0; in general (P')^2 / (P (1 - P))
    with P' = a (1 - c) p* (1 - p*), p* the 2PL curve, so a guessable item tells less."""
    p_star = _logistic(a * (theta - b))
    p = c + (1.0 - c) * p_star
    slope = a * (1.0 - c) * p_star * (1.0 - p_star)
    return slope * slope / max(p * (1.0 - p), 1e-300)


@cache
def item_curve(
    a: float, b: float, grid: tuple[float, ...], c: float = 0.0
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """P(correct) on the grid and the log-likelihood terms (log p, log(1 - p)), cached per item."""
    probs = tuple(min(max(p_correct(t, a, b, c), 1e-12), 1.0 - 1e-12) for t in grid)
    return probs, tuple(math.log(p) for p in probs) + tuple(math.log(1.0 - p) for p in probs)


def log_likelihood(obs: Observation, grid: tuple[float, ...]) -> list[float]:
    """log P(obs | theta) at each grid point: s log P + (1 - s) log(1 - P) (see the module docstring)."""
    s = min(max(obs.score, 0.0), 1.0)
    _, logs = item_curve(obs.a, obs.b, grid, obs.c)
    n = len(grid)
    return [s * logs[i] + (1.0 - s) * logs[n + i] for i in range(n)]


def grid_cells(grid: Sequence[float]) -> list[tuple[float, float]]:
    """Each grid point's cell: from the midpoint with its left neighbour to the one with its right."""
    g = list(grid)
    if len(g) == 1:
        return [(g[0], g[0])]
    edges = [g[0] - (g[1] - g[0]) / 2]
    edges += [(g[i] + g[i + 1]) / 2 for i in range(len(g) - 1)]
    edges.append(g[-1] + (g[-1] - g[-2]) / 2)
    return [(edges[i], edges[i + 1]) for i in range(len(g))]


@cache
def band_fractions(grid: tuple[float, ...], bands: tuple[Band, ...]) -> tuple[tuple[float, ...], ...]:
    """Per band, the share of each grid cell inside it; each cell's shares add up to 1.

    The outermost cells extend to the open ends of the first and last band."""
    cells = grid_cells(grid)
    table = []
    for band in bands:
        row = []
        for lo, hi in cells:
            if hi <= lo:
                row.append(1.0 if band.low <= lo < band.high else 0.0)
                continue
            overlap = min(hi, band.high) - max(lo, band.low)
            row.append(max(overlap, 0.0) / (hi - lo))
        table.append(row)
    for i in (0, len(cells) - 1):  # mass beyond the grid's ends belongs to the outer bands
        total = sum(row[i] for row in table)
        if total < 1.0:
            owner = 0 if i == 0 else len(bands) - 1
            table[owner][i] += 1.0 - total
    return tuple(tuple(row) for row in table)


def band_masses(weights: Sequence[float], fractions: Sequence[Sequence[float]]) -> list[float]:
    return [sum(map(mul, weights, row)) for row in fractions]


def decide_level(masses: Sequence[float], bands: Sequence[Band] = LEVEL_BANDS) -> tuple[Band, float]:
    """The band with the largest posterior mass (lowest band on an exact tie) and that mass."""
    best = max(range(len(bands)), key=lambda k: (masses[k], -k))
    return bands[best], masses[best]


@dataclass(frozen=True)
class Observation:
    """One scored response (score in [0, 1]) to an item with parameters a, b and guessing floor c."""

    a: float
    b: float
    score: float
    c: float = 0.0


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

    @classmethod
    def from_weights(cls, grid: Sequence[float], weights: Sequence[float], n: int) -> Posterior:
        """A posterior given by its (unnormalised, positive or zero) weights on the grid."""
        posterior = cls(grid)
        posterior.log_weights = [math.log(w) if w > 0 else -math.inf for w in weights]
        posterior.n = n
        return posterior

    def update(self, obs: Observation) -> None:
        for i, term in enumerate(log_likelihood(obs, self.grid)):
            self.log_weights[i] += term
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
        return grid_cells(self.grid)

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

    def band_masses(self, bands: Sequence[Band] = LEVEL_BANDS) -> list[float]:
        """Posterior mass in each band; the outer bands also take the mass beyond the grid."""
        return band_masses(self.weights(), band_fractions(self.grid, tuple(bands)))

    def level(self, bands: Sequence[Band] = LEVEL_BANDS) -> tuple[Band, float]:
        """The most probable level band and its posterior mass (see `decide_level`)."""
        return decide_level(self.band_masses(bands), bands)

    def estimate(self, *, credible_mass: float = 0.90, bands: Sequence[Band] = LEVEL_BANDS) -> Estimate:
        """Posterior summary; level and confidence from `level`, the one decision rule."""
        mean, sd = self.mean_sd()
        tail = (1.0 - credible_mass) / 2
        band, mass = self.level(bands)
        return Estimate(
            theta=mean,
            se=sd,
            ci_low=self.quantile(tail),
            ci_high=self.quantile(1.0 - tail),
            level=band.slug,
            confidence=mass,
            n_items=self.n,
        )


class JointPosterior:
    """Abilities on several sub-skills under the one-factor prior with correlation rho.

    theta_s = sqrt(rho) g + sqrt(1 - rho) delta_s (see the module docstring). Each
    sub-skill keeps its log-likelihood on the theta grid; `marginal` integrates the factor
    g out on FACTOR_GRID, so evidence on the other sub-skills moves a sub-skill's prior
    toward them by as much as rho and their precision warrant. Marginals are cached
    until the next `update`. Not thread-safe.
    """

    def __init__(
        self,
        subskills: Sequence[str],
        *,
        correlation: float,
        grid: Sequence[float] = DEFAULT_GRID,
        factor_grid: Sequence[float] = FACTOR_GRID,
    ) -> None:
        if not 0.0 <= correlation <= MAX_CORRELATION:
            raise ValueError(f"correlation must be in [0, {MAX_CORRELATION}], got {correlation}")
        self.grid = tuple(grid)
        self.correlation = correlation
        self.log_lik = {slug: [0.0] * len(self.grid) for slug in subskills}
        self.counts = dict.fromkeys(subskills, 0)
        loading, spread = math.sqrt(correlation), math.sqrt(1.0 - correlation)
        prior_g = [math.exp(-0.5 * g * g) for g in factor_grid]
        total_g = sum(prior_g)
        self._log_prior_g = [math.log(w / total_g) for w in prior_g]
        kernel = []  # kernel[j][i] = P(theta_i | g_j), normalised over the theta grid
        for g in factor_grid:
            row = [math.exp(-0.5 * ((t - loading * g) / spread) ** 2) for t in self.grid]
            total = sum(row)
            kernel.append([w / total for w in row])
        self._kernel = kernel
        self._lik: dict[str, list[float]] = {}
        self._log_z: dict[str, list[float]] = {}
        self._marginals: dict[str, Posterior] = {}
        self._stale = set(subskills)

    def _refresh(self) -> None:
        for subskill in self._stale:
            ll = self.log_lik[subskill]
            top = max(ll)
            lik = [math.exp(v - top) for v in ll]
            self._lik[subskill] = lik
            self._log_z[subskill] = [math.log(max(sum(map(mul, row, lik)), 1e-300)) for row in self._kernel]
        self._stale.clear()

    def update(self, subskill: str, obs: Observation) -> None:
        ll = self.log_lik[subskill]
        for i, term in enumerate(log_likelihood(obs, self.grid)):
            ll[i] += term
        self.counts[subskill] += 1
        self._stale.add(subskill)
        self._marginals.clear()

    def n(self, subskill: str) -> int:
        return self.counts[subskill]

    def marginal(self, subskill: str) -> Posterior:
        """The posterior of one sub-skill's theta given the evidence on all of them."""
        cached = self._marginals.get(subskill)
        if cached is not None:
            return cached
        self._refresh()
        others = [self._log_z[slug] for slug in self.log_lik if slug != subskill]
        log_c = [sum(zs) + lp for lp, *zs in zip(self._log_prior_g, *others, strict=True)]
        top = max(log_c)
        mixture = [0.0] * len(self.grid)
        for log_weight, row in zip(log_c, self._kernel, strict=True):
            if log_weight - top > NEGLIGIBLE_LOG:  # factor values this unlikely change nothing
                weight = math.exp(log_weight - top)
                mixture = [m + weight * k for m, k in zip(mixture, row, strict=True)]
        weights = list(map(mul, self._lik[subskill], mixture))
        posterior = Posterior.from_weights(self.grid, weights, self.counts[subskill])
        self._marginals[subskill] = posterior
        return posterior

    def estimates(self, *, credible_mass: float = 0.90) -> dict[str, Estimate]:
        return {slug: self.marginal(slug).estimate(credible_mass=credible_mass) for slug in self.log_lik}


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
    """An item that may be served next: a stable id, its parameters and guessing floor."""

    id: str
    a: float
    b: float
    c: float = 0.0


def rank_by_information(theta: float, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Most informative first at theta; ties broken by id so the order is deterministic."""
    return sorted(candidates, key=lambda item: (-information(theta, item.a, item.b, item.c), item.id))


def _entropy(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log(p) - (1.0 - p) * math.log(1.0 - p)


def level_information(
    posterior: Posterior, a: float, b: float, bands: Sequence[Band] = LEVEL_BANDS, c: float = 0.0
) -> float:
    """Mutual information (nats) between a right/wrong answer to the item and the level band.

    I = H(P(correct)) - sum_k m_k H(P(correct | band k)) under the current posterior. It
    is zero for an item whose answer cannot tell the plausible bands apart, and largest
    for a sharp item set where the posterior straddles a band boundary: information
    where the level decision is made, not at the point estimate."""
    return _LevelInformation(posterior, bands)(a, b, c)


class _LevelInformation:
    """`level_information` for many items against one posterior: the posterior's part once."""

    def __init__(self, posterior: Posterior, bands: Sequence[Band]) -> None:
        self.grid = posterior.grid
        self.weights = posterior.weights()
        fractions = band_fractions(self.grid, tuple(bands))
        masses = band_masses(self.weights, fractions)
        # Each band covers a contiguous run of cells; only bands with mass matter.
        self.bands = []
        for row, mass in zip(fractions, masses, strict=True):
            cells = [i for i, f in enumerate(row) if f > 0]
            if mass > 1e-12 and cells:
                lo, hi = cells[0], cells[-1] + 1
                self.bands.append((lo, hi, row[lo:hi], mass))

    def __call__(self, a: float, b: float, c: float = 0.0) -> float:
        probs, _ = item_curve(a, b, self.grid, c)
        weighted = list(map(mul, self.weights, probs))
        conditional = 0.0
        for lo, hi, row, mass in self.bands:
            conditional += mass * _entropy(sum(map(mul, weighted[lo:hi], row)) / mass)
        return max(_entropy(sum(weighted)) - conditional, 0.0)


def rank_by_level_information(posterior: Posterior, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Most informative about the level first; ties broken by id."""
    info = _LevelInformation(posterior, LEVEL_BANDS)
    return sorted(candidates, key=lambda item: (-info(item.a, item.b, item.c), item.id))


def select_randomesque(
    theta: float, candidates: Sequence[Candidate], *, rng: random.Random, top_k: int = 5
) -> Candidate | None:
    """Exposure control by the randomesque method: pick uniformly among the top_k items
    of highest Fisher information at theta (top_k=1 is plain maximum information)."""
    if not candidates:
        return None
    ranked = rank_by_information(theta, candidates)
    return rng.choice(ranked[: max(1, top_k)])


def select_randomesque_by_level(
    posterior: Posterior, candidates: Sequence[Candidate], *, rng: random.Random, top_k: int = 5
) -> Candidate | None:
    """Randomesque exposure control over `rank_by_level_information`."""
    if not candidates:
        return None
    ranked = rank_by_level_information(posterior, candidates)
    return rng.choice(ranked[: max(1, top_k)])


def fit_item(
    thetas: Sequence[float],
    scores: Sequence[float],
    *,
    a0: float,
    b0: float,
    c: float = 0.0,
    prior_sd_b: float = 2.0,
    prior_sd_log_a: float = 0.5,
    fit_a: bool = True,
    iterations: int = 50,
) -> tuple[float, float]:
    """Re-estimate one item's (a, b) from learners' abilities and their scores on it.

    Maximum a posteriori fit with the abilities held fixed (the "fixed-theta" step of
    joint estimation) and the guessing floor c fixed by the item's format: Bernoulli
    (fractional for partial credit) likelihood in a, b, with weak normal priors centred
    on the current values (b ~ N(b0, 2^2), log a ~ N(log a0, 0.5^2)) so that few or
    extreme responses cannot run away. Solved by Fisher scoring on (log a, b) with step
    halving; the posterior is log-concave in b, and the step halving keeps every step an
    ascent.
    """
    la_prior, b_prior = math.log(a0), b0
    pairs = list(zip(thetas, scores, strict=True))

    def objective(la: float, b: float) -> float:
        a = math.exp(la)
        total = 0.0
        for t, s in pairs:
            p = min(max(p_correct(t, a, b, c), 1e-12), 1 - 1e-12)
            total += s * math.log(p) + (1 - s) * math.log(1 - p)
        total -= 0.5 * ((b - b_prior) / prior_sd_b) ** 2
        if fit_a:
            total -= 0.5 * ((la - la_prior) / prior_sd_log_a) ** 2
        return total

    def scoring_step(la: float, b: float) -> tuple[float, float]:
        """Gradient and expected information in (log a, b); the Fisher-scoring step."""
        a = math.exp(la)
        g_la = g_b = i_lala = i_bb = i_lab = 0.0
        for t, s in pairs:
            p_star = _logistic(a * (t - b))
            p = min(max(c + (1 - c) * p_star, 1e-12), 1 - 1e-12)
            dp_dz = (1 - c) * p_star * (1 - p_star)  # z = a (t - b): dz/dla = a (t - b), dz/db = -a
            score_z = (s - p) * dp_dz / (p * (1 - p))
            weight = dp_dz * dp_dz / (p * (1 - p))
            z_la, z_b = a * (t - b), -a
            g_la += score_z * z_la
            g_b += score_z * z_b
            i_lala += weight * z_la * z_la
            i_bb += weight * z_b * z_b
            i_lab += weight * z_la * z_b
        g_b -= (b - b_prior) / prior_sd_b**2
        i_bb += 1 / prior_sd_b**2
        if not fit_a:
            return 0.0, g_b / i_bb
        g_la -= (la - la_prior) / prior_sd_log_a**2
        i_lala += 1 / prior_sd_log_a**2
        det = i_lala * i_bb - i_lab * i_lab
        if det <= 1e-12:
            return 0.0, g_b / i_bb
        return (i_bb * g_la - i_lab * g_b) / det, (i_lala * g_b - i_lab * g_la) / det

    la, b = la_prior, b_prior
    current = objective(la, b)
    for _ in range(iterations):
        step_la, step_b = scoring_step(la, b)
        scale = 1.0
        for _half in range(20):
            cand_la = min(max(la + scale * step_la, math.log(0.2)), math.log(4.0))
            cand_b = min(max(b + scale * step_b, -4.0), 4.0)
            value = objective(cand_la, cand_b)
            if value >= current - 1e-12:
                break
            scale /= 2
        else:
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
