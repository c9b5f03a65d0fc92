"""The placement test's policy: which item next, when a sub-skill is done, what level it shows.

Pure Python, no Django: `services` replays an attempt's answered items into a
`PlacementState` and asks it for the next item; bench/assessment_sim drives the very
same class with simulated learners.

- Selection: maximum Fisher information at the current EAP theta among the unseen
  active items of the sub-skill, with randomesque exposure control (a uniform pick
  among the top_k most informative; top_k=5 by default).
- Interleaving: the next sub-skill is the unfinished one with the fewest items so far
  (ties in the bank's sub-skill order), so the five sub-skills alternate.
- Stopping, per sub-skill: at least min_items, then stop as soon as the credible
  interval (credible_mass, 90% by default) lies inside one level band; always stop at
  max_items or when the sub-skill has no unseen item left.
- Level: the band of the posterior mean; confidence: the posterior mass in that band.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlrange.assessments.irt import (
    Candidate,
    Estimate,
    Observation,
    Posterior,
    interval_within_one_band,
    select_randomesque,
)


@dataclass(frozen=True)
class PlacementSettings:
    min_items: int = 4
    max_items: int = 15
    top_k: int = 5
    credible_mass: float = 0.90

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PlacementSettings:
        return cls(
            min_items=int(values.get("min_items_per_subskill", cls.min_items)),
            max_items=int(values.get("max_items_per_subskill", cls.max_items)),
            top_k=int(values.get("exposure_top_k", cls.top_k)),
            credible_mass=float(values.get("credible_mass", cls.credible_mass)),
        )

    def as_mapping(self) -> dict[str, Any]:
        return {
            "min_items_per_subskill": self.min_items,
            "max_items_per_subskill": self.max_items,
            "exposure_top_k": self.top_k,
            "credible_mass": self.credible_mass,
        }


@dataclass(frozen=True)
class BankItem:
    """What the policy needs to know about an item: its id, sub-skill and 2PL parameters."""

    id: str
    subskill: str
    a: float
    b: float
    level: str = ""


@dataclass
class _SubSkillTrack:
    posterior: Posterior = field(default_factory=Posterior)
    seen: set[str] = field(default_factory=set)


class PlacementState:
    """Progress of one placement attempt over every sub-skill of the bank.

    `bank` maps each sub-skill slug (in interleaving order) to its active items.
    """

    def __init__(self, bank: Mapping[str, Sequence[BankItem]], settings: PlacementSettings) -> None:
        self.bank = bank
        self.settings = settings
        self.tracks = {slug: _SubSkillTrack() for slug in bank}

    def record(self, item: BankItem, score: float) -> None:
        track = self.tracks[item.subskill]
        track.posterior.update(Observation(a=item.a, b=item.b, score=score))
        track.seen.add(item.id)

    def mark_seen(self, item: BankItem) -> None:
        """An item served but not answered (yet) is never served again."""
        self.tracks[item.subskill].seen.add(item.id)

    def estimate(self, subskill: str) -> Estimate:
        return self.tracks[subskill].posterior.estimate(credible_mass=self.settings.credible_mass)

    def n_items(self, subskill: str) -> int:
        return self.tracks[subskill].posterior.n

    def is_done(self, subskill: str) -> bool:
        track = self.tracks[subskill]
        n = track.posterior.n
        if n >= self.settings.max_items:
            return True
        if not any(item.id not in track.seen for item in self.bank[subskill]):
            return True
        if n < self.settings.min_items:
            return False
        return interval_within_one_band(self.estimate(subskill))

    def is_finished(self) -> bool:
        return all(self.is_done(slug) for slug in self.bank)

    def next_item(self, rng: random.Random) -> BankItem | None:
        """The next item to serve, or None when every sub-skill is done."""
        open_skills = [slug for slug in self.bank if not self.is_done(slug)]
        if not open_skills:
            return None
        subskill = min(open_skills, key=lambda slug: self.tracks[slug].posterior.n)
        track = self.tracks[subskill]
        unseen = {item.id: item for item in self.bank[subskill] if item.id not in track.seen}
        theta, _ = track.posterior.mean_sd()
        chosen = select_randomesque(
            theta,
            [Candidate(id=i.id, a=i.a, b=i.b) for i in unseen.values()],
            rng=rng,
            top_k=self.settings.top_k,
        )
        return unseen[chosen.id] if chosen else None

    def estimates(self) -> dict[str, Estimate]:
        return {slug: self.estimate(slug) for slug in self.bank}
