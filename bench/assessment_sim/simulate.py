"""Simulated learners of known ability take the placement test through the app's own engine.

Each simulated learner has a true theta per sub-skill drawn from N(0, 1) and answers each
item correctly with the 2PL probability of the bank's own (a, b). The adaptive run uses
`mlrange.assessments.adaptive.PlacementState` - the same selection, estimation and stopping
code as the web app. Baselines: a fixed-length quiz of items drawn at random from the
sub-skill (same EAP estimate), of the adaptive test's mean length and longer.

The bank is read from curriculum/questions/*.yaml with the app's own parser; a sub-skill
with no items there gets a generated bank (40 items, 10 per level, b spread over the
level's range, a in [0.8, 1.6]), and the table says which.
"""

# ruff: noqa: S311 -- seeded, reproducible simulations; nothing here is cryptographic

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mlrange.assessments.adaptive import BankItem, PlacementSettings, PlacementState
from mlrange.assessments.bank import SUBSKILL_SLUGS, read_bank
from mlrange.assessments.irt import LEVEL_BANDS, Observation, band_of, estimate, p_correct

ROOT = Path(__file__).resolve().parents[2]
LEVELS = [band.slug for band in LEVEL_BANDS]
LEVEL_B_RANGES = {
    "beginner": (-2.5, -0.8),
    "intermediate": (-1.2, 0.2),
    "advanced": (-0.2, 1.2),
    "expert": (0.8, 2.5),
}


def generated_bank(subskill: str, rng: random.Random, per_level: int = 10) -> list[BankItem]:
    items = []
    for level in LEVELS:
        low, high = LEVEL_B_RANGES[level]
        for i in range(per_level):
            b = low + (high - low) * (i + 0.5) / per_level
            items.append(
                BankItem(f"{subskill[:2]}-{level[0]}-{i:03d}", subskill, rng.uniform(0.8, 1.6), b, level)
            )
    return items


def load_bank(questions_dir: Path, rng: random.Random) -> tuple[dict[str, list[BankItem]], dict[str, str]]:
    parsed, problems = read_bank(questions_dir)
    bank: dict[str, list[BankItem]] = {slug: [] for slug in SUBSKILL_SLUGS}
    for item in parsed:
        bank[item.subskill].append(BankItem(item.id, item.subskill, item.irt_a, item.irt_b, item.level))
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


@dataclass
class Tally:
    exact: int = 0
    within_one: int = 0
    n: int = 0
    items: list[int] = field(default_factory=list)

    def add(self, true_level: str, est_level: str, n_items: int) -> None:
        gap = abs(LEVELS.index(true_level) - LEVELS.index(est_level))
        self.exact += gap == 0
        self.within_one += gap <= 1
        self.n += 1
        self.items.append(n_items)

    def row(self) -> str:
        return (
            f"{100 * self.exact / self.n:6.1f}% {100 * self.within_one / self.n:6.1f}% "
            f"{statistics.mean(self.items):5.1f}"
        )


def answer(theta: float, item: BankItem, rng: random.Random) -> float:
    return 1.0 if rng.random() < p_correct(theta, item.a, item.b) else 0.0


def run_adaptive(
    bank: dict[str, list[BankItem]],
    thetas: dict[str, float],
    settings: PlacementSettings,
    rng: random.Random,
) -> tuple[PlacementState, list[str]]:
    state = PlacementState(bank, settings)
    served = []
    while (item := state.next_item(rng)) is not None:
        served.append(item.id)
        state.record(item, answer(thetas[item.subskill], item, rng))
    return state, served


def run_fixed(items: list[BankItem], theta: float, length: int, rng: random.Random, credible: float) -> str:
    chosen = rng.sample(items, min(length, len(items)))
    obs = [Observation(i.a, i.b, answer(theta, i, rng)) for i in chosen]
    return estimate(obs, credible_mass=credible).level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.assessment_sim", description=__doc__)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--bank", type=Path, default=ROOT / "curriculum" / "questions")
    defaults = PlacementSettings()
    parser.add_argument("--min-items", type=int, default=defaults.min_items)
    parser.add_argument("--max-items", type=int, default=defaults.max_items)
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--credible-mass", type=float, default=defaults.credible_mass)
    parser.add_argument("--long", type=int, default=30, help="length of the longer fixed quiz")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    bank, origin = load_bank(args.bank, random.Random(args.seed + 1))
    settings = PlacementSettings(
        min_items=args.min_items,
        max_items=args.max_items,
        top_k=args.top_k,
        credible_mass=args.credible_mass,
    )
    started = time.perf_counter()
    learners = [{slug: rng.gauss(0.0, 1.0) for slug in bank} for _ in range(args.learners)]
    adaptive = {slug: Tally() for slug in bank}
    first_items: Counter[str] = Counter()
    exposure: Counter[str] = Counter()
    stopped_by_rule = Counter[str]()
    for thetas in learners:
        state, served = run_adaptive(bank, thetas, settings, rng)
        first_items[served[0]] += 1
        exposure.update(served)
        for slug in bank:
            est = state.estimate(slug)
            n = state.n_items(slug)
            adaptive[slug].add(band_of(thetas[slug]).slug, est.level, n)
            stopped_by_rule[slug] += n < settings.max_items
    adaptive_seconds = time.perf_counter() - started

    equal_len = {slug: round(statistics.mean(t.items)) for slug, t in adaptive.items()}
    fixed_equal = {slug: Tally() for slug in bank}
    fixed_long = {slug: Tally() for slug in bank}
    for thetas in learners:
        for slug, items in bank.items():
            truth = band_of(thetas[slug]).slug
            length = equal_len[slug]
            fixed_equal[slug].add(
                truth,
                run_fixed(items, thetas[slug], length, rng, settings.credible_mass),
                min(length, len(items)),
            )
            fixed_long[slug].add(
                truth,
                run_fixed(items, thetas[slug], args.long, rng, settings.credible_mass),
                min(args.long, len(items)),
            )

    print(f"Placement simulation: {args.learners} learners, theta ~ N(0,1) per sub-skill, seed {args.seed}")
    print(
        f"Engine: min {settings.min_items} / max {settings.max_items} items per sub-skill, "
        f"stop when the {settings.credible_mass:.0%} credible interval is inside one level band, "
        f"randomesque top-{settings.top_k}"
    )
    for slug in bank:
        print(f"  bank {slug}: {origin[slug]}")
    if "_problems" in origin:
        print(f"  note: {origin['_problems']}")
    header = (
        f"{'sub-skill':<26}| {'adaptive: exact  +-1  items':<28}"
        f"| {'fixed (equal): exact +-1 items':<31}| fixed ({args.long}): exact  +-1 items"
    )
    print()
    print(header)
    print("-" * len(header))
    totals = [Tally(), Tally(), Tally()]
    for slug in bank:
        print(
            f"{slug:<26}| {adaptive[slug].row():<28}| {fixed_equal[slug].row():<31}| {fixed_long[slug].row()}"
        )
        for total, tally in zip(totals, (adaptive[slug], fixed_equal[slug], fixed_long[slug]), strict=True):
            total.exact += tally.exact
            total.within_one += tally.within_one
            total.n += tally.n
            total.items += tally.items
    print("-" * len(header))
    print(f"{'all':<26}| {totals[0].row():<28}| {totals[1].row():<31}| {totals[2].row()}")
    print()
    total_served = sum(exposure.values())
    print(f"Mean items per learner (all 5 sub-skills): {total_served / args.learners:.1f}")
    print(
        "Stopped by the credible-interval rule before max items: "
        + ", ".join(f"{slug} {100 * stopped_by_rule[slug] / args.learners:.0f}%" for slug in bank)
    )
    print(
        f"Exposure: {len(first_items)} distinct first items; most-used first item "
        f"{100 * first_items.most_common(1)[0][1] / args.learners:.0f}% of learners; "
        f"max item exposure {100 * max(exposure.values()) / args.learners:.0f}% of learners"
    )
    print(
        f"Adaptive runs took {adaptive_seconds:.1f} s "
        f"({1000 * adaptive_seconds / args.learners:.1f} ms per learner)."
    )
    return 0
