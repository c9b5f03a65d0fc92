"""The placement test's policy: which item next, when a sub-skill is done, what level it shows.

Pure Python, no Django: `services` replays an attempt's answered items into a
`PlacementState` and asks it for the next item; bench/assessment_sim drives the very
same class with simulated learners.

- Item model: the 2PL with each item's guessing floor c fixed by its format (`irt`), so a
  right answer to a true/false item weighs what a coin flip could have earned; without
  the floors, simulated learners who guess are placed right 55% of the time while shown
  70% confidence; with them, 66% and 65% (bench/RESULTS.md).
- Ability model: one `irt.JointPosterior` over all sub-skills, a one-factor prior with
  correlation `correlation` (0.5 by default; 0 makes the sub-skills independent). The
  placement interleaves sub-skills, so what a learner showed on the other four sharpens
  the prior of each. Why 0.5: sub-scores of one professional domain typically correlate
  0.5-0.8 (more once corrected for unreliability), and the simulation
  (`python -m bench.assessment_sim`) shows that assuming 0.5 costs about one point of
  exact-level accuracy when the truth is 0 and gains more than that at 0.5 or 0.8, while
  assuming more than the truth costs more. Replace it with the value estimated from
  calibration data once enough attempts exist.
- Selection (`selection`): "level" (default) picks the item whose answer carries the
  most information about the level band under the sub-skill's current posterior
  (`irt.level_information`); "fisher" is maximum Fisher information at the posterior
  mean. Either way with two kinds of exposure control: items already served to more than
  max_exposure of recent placements are held back while any other item is left (the
  restricted method of Revuelta & Ponsoda 1998; rates come from the caller: the app's
  recent attempts, the simulation's earlier learners), then a uniform pick among the
  top_k (randomesque). Without the cap the sharpest item near a cut point reaches ~95% of
  learners; with it no item is served to more than ~max_exposure of them.
- Interleaving: the next sub-skill is the unfinished one with the fewest items so far
  (ties in the bank's sub-skill order), so the five sub-skills alternate.
- Level and confidence: the band with the most posterior mass, and that mass
  (`Posterior.level`); the results page shows exactly this (`placement_estimates`).
- Stopping, per sub-skill: at least min_items, then stop as soon as the shown level's
  confidence reaches stop_mass (0.8 by default); always stop at max_items or when the
  sub-skill has no unseen item left. The same posterior decides, stops and is shown.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlrange.assessments.irt import (
    Candidate,
    Estimate,
    JointPosterior,
    Observation,
    select_randomesque,
    select_randomesque_by_level,
)

SELECTIONS = ("level", "fisher")
# Exposure rates from fewer placements than this are noise: no item is held back before.
EXPOSURE_MIN_ATTEMPTS = 30


@dataclass(frozen=True)
class PlacementSettings:
    min_items: int = 4
    max_items: int = 15
    top_k: int = 5
    credible_mass: float = 0.90
    stop_mass: float = 0.80
    correlation: float = 0.5
    selection: str = "level"
    max_exposure: float = 0.6

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PlacementSettings:
        return cls(
            min_items=int(values.get("min_items_per_subskill", cls.min_items)),
            max_items=int(values.get("max_items_per_subskill", cls.max_items)),
            top_k=int(values.get("exposure_top_k", cls.top_k)),
            credible_mass=float(values.get("credible_mass", cls.credible_mass)),
            stop_mass=float(values.get("stop_level_mass", cls.stop_mass)),
            correlation=float(values.get("subskill_correlation", cls.correlation)),
            selection=str(values.get("selection", cls.selection)),
            max_exposure=float(values.get("max_exposure_rate", cls.max_exposure)),
        )

    def as_mapping(self) -> dict[str, Any]:
        return {
            "min_items_per_subskill": self.min_items,
            "max_items_per_subskill": self.max_items,
            "exposure_top_k": self.top_k,
            "credible_mass": self.credible_mass,
            "stop_level_mass": self.stop_mass,
            "subskill_correlation": self.correlation,
            "selection": self.selection,
            "max_exposure_rate": self.max_exposure,
        }


@dataclass(frozen=True)
class BankItem:
    """What the policy needs to know about an item: its id, sub-skill, parameters a, b and
    guessing floor c (see `irt`)."""

    id: str
    subskill: str
    a: float
    b: float
    level: str = ""
    c: float = 0.0


@dataclass
class _SubSkillTrack:
    seen: set[str] = field(default_factory=set)


class PlacementState:
    """Progress of one placement attempt over every sub-skill of the bank.

    `bank` maps each sub-skill slug (in interleaving order) to its active items; `exposure`
    maps item ids to the share of recent placements that were served the item (absent: 0).
    """

    def __init__(
        self,
        bank: Mapping[str, Sequence[BankItem]],
        settings: PlacementSettings,
        exposure: Mapping[str, float] | None = None,
    ) -> None:
        self.bank = bank
        self.settings = settings
        self.exposure = exposure or {}
        self.tracks = {slug: _SubSkillTrack() for slug in bank}
        self.posterior = JointPosterior(list(bank), correlation=settings.correlation)

    def record(self, item: BankItem, score: float) -> None:
        self.posterior.update(item.subskill, Observation(a=item.a, b=item.b, score=score, c=item.c))
        self.tracks[item.subskill].seen.add(item.id)

    def mark_seen(self, item: BankItem) -> None:
        """An item served but not answered (yet) is never served again."""
        self.tracks[item.subskill].seen.add(item.id)

    def estimate(self, subskill: str) -> Estimate:
        return self.posterior.marginal(subskill).estimate(credible_mass=self.settings.credible_mass)

    def n_items(self, subskill: str) -> int:
        return self.posterior.n(subskill)

    def is_done(self, subskill: str) -> bool:
        n = self.posterior.n(subskill)
        if n >= self.settings.max_items:
            return True
        if not any(item.id not in self.tracks[subskill].seen for item in self.bank[subskill]):
            return True
        if n < self.settings.min_items:
            return False
        _, mass = self.posterior.marginal(subskill).level()
        return mass >= self.settings.stop_mass

    def is_finished(self) -> bool:
        return all(self.is_done(slug) for slug in self.bank)

    def next_item(self, rng: random.Random) -> BankItem | None:
        """The next item to serve, or None when every sub-skill is done."""
        open_skills = [slug for slug in self.bank if not self.is_done(slug)]
        if not open_skills:
            return None
        subskill = min(open_skills, key=self.posterior.n)
        track = self.tracks[subskill]
        unseen = {item.id: item for item in self.bank[subskill] if item.id not in track.seen}
        eligible = [i for i in unseen.values() if self.exposure.get(i.id, 0.0) < self.settings.max_exposure]
        candidates = [Candidate(id=i.id, a=i.a, b=i.b, c=i.c) for i in eligible or unseen.values()]
        marginal = self.posterior.marginal(subskill)
        if self.settings.selection == "fisher":
            theta, _ = marginal.mean_sd()
            chosen = select_randomesque(theta, candidates, rng=rng, top_k=self.settings.top_k)
        else:
            chosen = select_randomesque_by_level(marginal, candidates, rng=rng, top_k=self.settings.top_k)
        return unseen[chosen.id] if chosen else None

    def estimates(self) -> dict[str, Estimate]:
        return {slug: self.estimate(slug) for slug in self.bank}


def placement_estimates(
    observations: Mapping[str, Sequence[Observation]], settings: PlacementSettings
) -> dict[str, Estimate]:
    """A placement's results: the posterior its stopping rule used, from its responses.

    Only the sub-skills with at least one response are returned; all of them inform
    each other through the correlated prior, exactly as during the test."""
    posterior = JointPosterior(list(observations), correlation=settings.correlation)
    for slug, observed in observations.items():
        for obs in observed:
            posterior.update(slug, obs)
    return {
        slug: posterior.marginal(slug).estimate(credible_mass=settings.credible_mass)
        for slug, observed in observations.items()
        if observed
    }
