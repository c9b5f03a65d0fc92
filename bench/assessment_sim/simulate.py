"""Simulated learners of known ability take the placement test through the app's own engine.

Learners. Each simulated learner has a true theta on every sub-skill from a one-factor
model with a known correlation rho_true: theta_s = sqrt(rho_true) g + sqrt(1 - rho_true) e_s,
g and e_s ~ N(0, 1), so each theta_s is N(0, 1). Real learners' sub-skills are
correlated; how much is not known yet, so every run reports rho_true = 0 (independent
sub-skills: the worst case for an engine that borrows strength across them), 0.5 (the
figure the calibration target is judged on) and 0.8. A learner answers each item
correctly with the 2PL probability of the item's true (a, b): the bank's own values, or,
with --param-error SD, values off by N(0, SD) in b and by a factor exp(N(0, SD / 2)) in
a, drawn once per run (a bank whose parameters are expert guesses, not calibrations).

Engines. The adaptive runs use `mlrange.assessments.adaptive.PlacementState`, the web
app's selection, estimation and stopping code, under several settings (ENGINES) so that
each change can be judged on its own. Baselines: fixed-length quizzes of items drawn at
random from each sub-skill, scored by the same estimator and decision rule as the
engine they sit next to (so the comparison isolates adaptivity), at the adaptive test's
mean length and at longer lengths, to find the length a fixed quiz needs for the same
exact-level accuracy.

Every configuration sees the same learners (per rho_true) and fixed seeds; configurations
run in parallel worker processes (--workers).
"""

# ruff: noqa: S311 -- seeded, reproducible simulations; nothing here is cryptographic

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlrange.assessments.adaptive import (
    EXPOSURE_MIN_ATTEMPTS,
    BankItem,
    PlacementSettings,
    PlacementState,
    placement_estimates,
)
from mlrange.assessments.bank import SUBSKILL_SLUGS, read_bank
from mlrange.assessments.irt import LEVEL_BANDS, Observation, band_of, p_correct

ROOT = Path(__file__).resolve().parents[2]
LEVELS = [band.slug for band in LEVEL_BANDS]
LEVEL_B_RANGES = {
    "beginner": (-2.5, -0.8),
    "intermediate": (-1.2, 0.2),
    "advanced": (-0.2, 1.2),
    "expert": (0.8, 2.5),
}
# name -> (description, overrides of the default PlacementSettings)
ENGINES: dict[str, tuple[str, dict[str, Any]]] = {
    "indep+fisher": (
        "independent sub-skills, max Fisher info at the mean",
        {"correlation": 0.0, "selection": "fisher"},
    ),
    "indep+level": ("independent sub-skills, level-information selection", {"correlation": 0.0}),
    "default": ("correlated prior (the app's settings)", {}),
}
DEFAULT_ENGINES = "indep+fisher,indep+level,default"
Bank = dict[str, list[BankItem]]


def generated_bank(
    subskill: str, rng: random.Random, per_level: int = 10, discrimination: float | None = None
) -> list[BankItem]:
    """Items spread evenly over each level's b range; a ~ U(0.8, 1.6), or all `discrimination`."""
    items = []
    for level in LEVELS:
        low, high = LEVEL_B_RANGES[level]
        for i in range(per_level):
            b = low + (high - low) * (i + 0.5) / per_level
            a = discrimination if discrimination is not None else rng.uniform(0.8, 1.6)
            items.append(BankItem(f"{subskill[:2]}-{level[0]}-{i:03d}", subskill, a, b, level))
    return items


def synthetic_bank(discrimination: float, rng: random.Random, per_level: int) -> tuple[Bank, dict[str, str]]:
    """A bank of the real bank's shape whose every item has discrimination `discrimination`:
    what the engine would do with sharper (or blunter) items than the authored ones."""
    bank = {slug: generated_bank(slug, rng, per_level, discrimination) for slug in SUBSKILL_SLUGS}
    origin = {slug: f"synthetic ({per_level * len(LEVELS)} items, a = {discrimination})" for slug in bank}
    return bank, origin


def load_bank(
    questions_dir: Path, rng: random.Random, *, whole_bank: bool = False
) -> tuple[Bank, dict[str, str]]:
    """The bank as the engine sees it (with each item's guessing floor) and where each
    sub-skill's items came from: the placement pool, as the app serves it, unless whole_bank."""
    parsed, problems = read_bank(questions_dir)
    bank: Bank = {slug: [] for slug in SUBSKILL_SLUGS}
    for item in parsed:
        if item.pool != "placement" and not whole_bank:
            continue
        bank[item.subskill].append(
            BankItem(item.id, item.subskill, item.irt_a, item.irt_b, item.level, item.irt_c)
        )
    origin = {}
    for slug in SUBSKILL_SLUGS:
        if bank[slug]:
            origin[slug] = f"curriculum ({len(bank[slug])} items)"
        else:
            bank[slug] = generated_bank(slug, rng)
            origin[slug] = f"generated ({len(bank[slug])} items)"
    if problems:
        origin["_problems"] = f"{len(problems)} bank problem(s) skipped; first: {problems[0]}"
    return bank, origin


def without_guessing_floors(bank: Bank) -> Bank:
    """The same bank as a plain 2PL engine sees it (every c = 0): the engine before the floors."""
    return {slug: [replace(item, c=0.0) for item in items] for slug, items in bank.items()}


def true_parameters(
    bank: Bank, error_sd: float, seed: int, *, guessing: bool
) -> dict[str, tuple[float, float, float]]:
    """The (a, b, c) simulated learners answer by: the bank's a and b (perturbed with
    --param-error) and its guessing floor c (learners who do not know guess), or c = 0
    with --no-guessing (learners who do not know always answer wrong)."""
    rng = random.Random(f"{seed}:item-parameters")
    truth = {}
    for items in bank.values():
        for item in items:
            a, b = item.a, item.b
            if error_sd > 0:
                a, b = a * math.exp(rng.gauss(0.0, error_sd / 2)), b + rng.gauss(0.0, error_sd)
            truth[item.id] = (a, b, item.c if guessing else 0.0)
    return truth


def draw_learners(subskills: list[str], rho: float, n: int, seed: int) -> list[dict[str, float]]:
    rng = random.Random(f"{seed}:learners:{rho}")
    loading, spread = math.sqrt(rho), math.sqrt(1.0 - rho)
    learners = []
    for _ in range(n):
        g = rng.gauss(0.0, 1.0)
        learners.append({slug: loading * g + spread * rng.gauss(0.0, 1.0) for slug in subskills})
    return learners


@dataclass
class Tally:
    exact: int = 0
    within_one: int = 0
    n: int = 0
    items: list[int] = field(default_factory=list)
    confidence: float = 0.0

    def add(self, true_level: str, est_level: str, n_items: int, confidence: float = 0.0) -> None:
        gap = abs(LEVELS.index(true_level) - LEVELS.index(est_level))
        self.exact += gap == 0
        self.within_one += gap <= 1
        self.n += 1
        self.items.append(n_items)
        self.confidence += confidence

    @property
    def exact_rate(self) -> float:
        return self.exact / self.n

    @property
    def within_one_rate(self) -> float:
        return self.within_one / self.n

    @property
    def mean_items(self) -> float:
        return statistics.mean(self.items)


@dataclass
class Result:
    rho_true: float
    engine: str
    settings: PlacementSettings
    adaptive: Tally
    per_subskill: dict[str, Tally]
    fixed: dict[int, Tally]
    equal_length: int
    stopped_by_rule: float
    first_items: int
    top_first_item: float
    max_exposure: float
    seconds: float


def _answer(truth: tuple[float, float, float], theta: float, rng: random.Random) -> float:
    """A right (1) or wrong (0) answer by the 3PL P = c + (1 - c) p_2PL (c = 0: the 2PL)."""
    return 1.0 if rng.random() < p_correct(theta, *truth) else 0.0


@dataclass(frozen=True)
class Job:
    """One configuration of the experiment, handed to a worker process whole."""

    bank: Bank
    learners: list[dict[str, float]]
    truth: dict[str, tuple[float, float, float]]
    rho_true: float
    engine: str
    settings: PlacementSettings
    fixed_lengths: list[int]
    seed: int


def run_config(job: Job) -> Result:
    bank, learners, truth, settings, seed = job.bank, job.learners, job.truth, job.settings, job.seed
    rho_true, engine = job.rho_true, job.engine
    started = time.perf_counter()
    adaptive = Tally()
    per_subskill = {slug: Tally() for slug in bank}
    first_items: Counter[str] = Counter()
    exposure: Counter[str] = Counter()
    by_rule = 0
    for index, thetas in enumerate(learners):
        rng = random.Random(f"{seed}:{rho_true}:{engine}:adaptive:{index}")
        # Exposure rates as the app sees them: the share of earlier placements that served
        # each item, once there are enough of them (EXPOSURE_MIN_ATTEMPTS, as in the app).
        rates = {key: n / index for key, n in exposure.items()} if index >= EXPOSURE_MIN_ATTEMPTS else {}
        state = PlacementState(bank, settings, rates)
        served = []
        while (item := state.next_item(rng)) is not None:
            served.append(item.id)
            state.record(item, _answer(truth[item.id], thetas[item.subskill], rng))
        first_items[served[0]] += 1
        exposure.update(served)
        for slug in bank:
            est = state.estimate(slug)
            n = state.n_items(slug)
            truth_level = band_of(thetas[slug]).slug
            adaptive.add(truth_level, est.level, n, est.confidence)
            per_subskill[slug].add(truth_level, est.level, n, est.confidence)
            by_rule += n < settings.max_items and n < len(bank[slug])
    equal_length = round(adaptive.mean_items)
    fixed: dict[int, Tally] = {}
    for length in sorted({equal_length, *job.fixed_lengths}):
        tally = Tally()
        for index, thetas in enumerate(learners):
            rng = random.Random(f"{seed}:{rho_true}:{engine}:fixed{length}:{index}")
            observations = {}
            for slug, items in bank.items():
                chosen = rng.sample(items, min(length, len(items)))
                observations[slug] = [
                    Observation(i.a, i.b, _answer(truth[i.id], thetas[slug], rng), i.c) for i in chosen
                ]
            for slug, est in placement_estimates(observations, settings).items():
                tally.add(band_of(thetas[slug]).slug, est.level, est.n_items, est.confidence)
        fixed[length] = tally
    n_learners = len(learners)
    return Result(
        rho_true=rho_true,
        engine=engine,
        settings=settings,
        adaptive=adaptive,
        per_subskill=per_subskill,
        fixed=fixed,
        equal_length=equal_length,
        stopped_by_rule=by_rule / (n_learners * len(bank)),
        first_items=len(first_items),
        top_first_item=first_items.most_common(1)[0][1] / n_learners,
        max_exposure=max(exposure.values()) / n_learners,
        seconds=time.perf_counter() - started,
    )


def _matching_length(result: Result) -> str:
    """The shortest fixed length (of those run) at least as accurate as the adaptive test."""
    for length, tally in sorted(result.fixed.items()):
        if tally.exact_rate >= result.adaptive.exact_rate:
            return f"{length:>3} ({100 * tally.exact_rate:4.1f}%)"
    longest, tally = max(result.fixed.items())
    return f">{longest:>2} ({100 * tally.exact_rate:4.1f}% at {longest})"


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def print_report(results: list[Result], args: argparse.Namespace, origin: dict[str, str]) -> None:
    base = PlacementSettings(**_overrides(args))
    print(
        f"Placement simulation: {args.learners} learners per configuration, seed {args.seed}, "
        f"theta_s = sqrt(rho_true) g + sqrt(1 - rho_true) e_s"
    )
    print(
        f"Engine settings: min {base.min_items} / max {base.max_items} items per sub-skill, stop when the "
        f"level's posterior mass >= {base.stop_mass:.2f}, randomesque top-{base.top_k}, "
        f"model correlation {base.correlation} (default engine), exposure cap {base.max_exposure:.2f}"
    )
    if args.param_error > 0:
        print(f"Item parameters the learners answer by: bank values with error SD {args.param_error} in b")
    else:
        print("Item parameters the learners answer by: the bank's own (perfectly calibrated bank)")
    if args.no_guessing:
        print("Learners never guess: who does not know answers wrong (c = 0 in the truth)")
    else:
        print("Learners guess: P(right) = c + (1 - c) p_2PL, c = 1/options (single choice), 1/2 (true/false)")
    if args.engine_2pl:
        print("Engine: plain 2PL, blind to guessing (every c = 0), as before the guessing floors")
    for slug in SUBSKILL_SLUGS:
        if slug in origin:
            print(f"  bank {slug}: {origin[slug]}")
    if "_problems" in origin:
        print(f"  note: {origin['_problems']}")
    for name in args.engines.split(","):
        print(f"  engine {name}: {ENGINES[name][0]}")
    print()
    header = (
        f"{'rho_true':>8} | {'engine':<13} | {'exact':>6} {'+-1':>6} {'items':>5} {'conf':>6} | "
        f"{'fixed@equal: len exact   +-1':<28} | fixed length for equal exact"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        eq = r.fixed[r.equal_length]
        print(
            f"{r.rho_true:>8.1f} | {r.engine:<13} | {_pct(r.adaptive.exact_rate)} "
            f"{_pct(r.adaptive.within_one_rate)} {r.adaptive.mean_items:5.1f} "
            f"{_pct(r.adaptive.confidence / r.adaptive.n)} | "
            f"{r.equal_length:>15} {_pct(eq.exact_rate)} {_pct(eq.within_one_rate)} | {_matching_length(r)}"
        )
    print("-" * len(header))
    print(
        "exact / +-1: share of (learner, sub-skill) placed in the true level / within one level; "
        "items: mean per sub-skill;"
    )
    print(
        "conf: mean confidence shown to the learner (calibrated when it equals exact); fixed: random "
        "items, same estimator."
    )
    print()
    fixed_header = "fixed-length quizzes (exact / +-1): " + ", ".join(
        str(length) for length in sorted(results[0].fixed) if length in args.fixed_lengths
    )
    print(fixed_header)
    for r in results:
        cells = ", ".join(
            f"{length}: {_pct(t.exact_rate)}/{_pct(t.within_one_rate)}"
            for length, t in sorted(r.fixed.items())
            if length in args.fixed_lengths
        )
        print(f"  rho_true {r.rho_true:.1f} {r.engine:<13} {cells}")
    print()
    print("Per sub-skill, exact (items), and exposure:")
    for r in results:
        cells = ", ".join(
            f"{slug.split('-')[0][:7]} {_pct(t.exact_rate)} ({t.mean_items:4.1f})"
            for slug, t in r.per_subskill.items()
        )
        print(
            f"  rho_true {r.rho_true:.1f} {r.engine:<13} {cells}; stopped by rule {_pct(r.stopped_by_rule)}; "
            f"{r.first_items} first items, top {_pct(r.top_first_item)}, "
            f"max exposure {_pct(r.max_exposure)}; "
            f"{r.seconds:.0f} s"
        )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "min_items": args.min_items,
        "max_items": args.max_items,
        "top_k": args.top_k,
        "stop_mass": args.stop_mass,
        "correlation": args.correlation,
        "selection": args.selection,
        "max_exposure": args.max_exposure,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.assessment_sim", description=__doc__)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--bank", type=Path, default=ROOT / "curriculum" / "questions")
    defaults = PlacementSettings()
    parser.add_argument("--min-items", type=int, default=defaults.min_items)
    parser.add_argument("--max-items", type=int, default=defaults.max_items)
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--stop-mass", type=float, default=defaults.stop_mass)
    parser.add_argument("--correlation", type=float, default=defaults.correlation, help="the engine's rho")
    parser.add_argument("--selection", default=defaults.selection)
    parser.add_argument(
        "--max-exposure", type=float, default=defaults.max_exposure, help="exposure cap (1.0: none)"
    )
    parser.add_argument("--rho-true", default="0.0,0.5,0.8", help="learners' true correlations")
    parser.add_argument("--engines", default=DEFAULT_ENGINES, help=f"of {', '.join(ENGINES)}")
    parser.add_argument("--fixed-lengths", default="15,20,25,30,36", help="fixed quiz lengths to run")
    parser.add_argument("--param-error", type=float, default=0.0, help="SD of the bank's error in b")
    parser.add_argument(
        "--synthetic-a",
        type=float,
        default=None,
        help="replace the bank by generated items of this discrimination (9 per level and sub-skill)",
    )
    parser.add_argument(
        "--no-guessing",
        action="store_true",
        help="learners who do not know never guess right (by default they do, with the item's floor c)",
    )
    parser.add_argument(
        "--engine-2pl", action="store_true", help="the engine ignores guessing floors (c = 0 everywhere)"
    )
    parser.add_argument(
        "--whole-bank",
        action="store_true",
        help="place from every item, practice pool included (the engine before the pools)",
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    args.fixed_lengths = [int(x) for x in args.fixed_lengths.split(",")]

    if args.synthetic_a is not None:
        bank, origin = synthetic_bank(args.synthetic_a, random.Random(args.seed + 1), per_level=9)
    else:
        bank, origin = load_bank(args.bank, random.Random(args.seed + 1), whole_bank=args.whole_bank)
    truth = true_parameters(bank, args.param_error, args.seed, guessing=not args.no_guessing)
    if args.engine_2pl:
        bank = without_guessing_floors(bank)
    base = PlacementSettings(**_overrides(args))
    jobs = []
    for rho in (float(x) for x in args.rho_true.split(",")):
        learners = draw_learners(list(bank), rho, args.learners, args.seed)
        for engine in args.engines.split(","):
            settings = replace(base, **ENGINES[engine][1])
            jobs.append(Job(bank, learners, truth, rho, engine, settings, args.fixed_lengths, args.seed))
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = []
        for result in pool.map(run_config, jobs):
            results.append(result)
            print(
                f"done: rho_true {result.rho_true} {result.engine} "
                f"({len(results)}/{len(jobs)}, {result.seconds:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    print_report(results, args, origin)
    print(f"\nTotal {time.perf_counter() - started:.0f} s with {args.workers} worker(s).")
    return 0
