"""Quiz items and lab checks as one body of 2PL evidence per sub-skill. Pure: no Django.

Evidence model:
- a quiz item response is an observation (item's a, b, score in [0, 1]);
- a graded lab check is an observation with a = LAB_CHECK_A, b at the centre of the lab's
  level band (LAB_LEVEL_B) and score = points / max_points;
- only the latest response to an item counts (from the most recent graded attempt), and
  only the best graded submission to a lab (highest score, the later one on a tie).

Events (a graded quiz attempt, a graded lab submission) are folded in time order into an
`EvidenceAccumulator`, which keeps each piece of evidence's log-likelihood on the ability
grid, so replacing an item's response or a lab's best submission is a subtraction, and
the ability curve after each event costs one grid pass. The final estimates are the
N(0, 1)-prior EAP of mlrange.assessments.irt over exactly the kept observations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mlrange.assessments.irt import DEFAULT_GRID, Estimate, Observation, Posterior, log_likelihood

LAB_CHECK_A = 1.2
LAB_LEVEL_B: Mapping[str, float] = {
    "beginner": -1.5,
    "intermediate": -0.5,
    "advanced": 0.5,
    "expert": 1.5,
}
# The radar maps theta onto 0..1 so that each level band is one quarter of the radius.
RADAR_THETA_MIN = -2.0
RADAR_THETA_MAX = 2.0
MAX_TIMELINE_POINTS = 60


@dataclass(frozen=True)
class ItemResponse:
    """A scored answer to one quiz item within a graded attempt."""

    item_key: str
    subskill: str
    a: float
    b: float
    score: float
    answered_at: datetime
    attempt_id: int
    c: float = 0.0


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    points: float
    max_points: float


@dataclass(frozen=True)
class LabResult:
    """A graded lab submission: its lab's sub-skill and level, score 0..100, its checks."""

    submission_id: str
    lab_slug: str
    subskill: str
    level: str
    score: float
    passed: bool
    at: datetime
    checks: tuple[CheckResult, ...] = ()


@dataclass(frozen=True)
class QuizEvent:
    at: datetime
    attempt_id: int
    responses: tuple[ItemResponse, ...]


@dataclass(frozen=True)
class LabEvent:
    at: datetime
    result: LabResult


Event = QuizEvent | LabEvent


def lab_check_observations(result: LabResult) -> list[Observation]:
    """One observation per check with a positive maximum; unknown levels sit at b = 0."""
    b = LAB_LEVEL_B.get(result.level, 0.0)
    return [
        Observation(a=LAB_CHECK_A, b=b, score=min(max(check.points / check.max_points, 0.0), 1.0))
        for check in result.checks
        if check.max_points > 0
    ]


def item_observation(response: ItemResponse) -> Observation:
    return Observation(a=response.a, b=response.b, score=response.score, c=response.c)


def ordered_events(
    responses: Iterable[ItemResponse],
    attempt_times: Mapping[int, datetime],
    lab_results: Iterable[LabResult],
) -> list[Event]:
    """Group responses by attempt and order every event by time (ties: quizzes first, by id).

    An attempt's time is `attempt_times[attempt_id]` (its submission) or else its last answer.
    """
    by_attempt: dict[int, list[ItemResponse]] = {}
    for response in responses:
        by_attempt.setdefault(response.attempt_id, []).append(response)
    events: list[tuple[tuple[datetime, int, str], Event]] = []
    for attempt_id, rows in by_attempt.items():
        rows.sort(key=lambda r: (r.answered_at, r.item_key))
        at = attempt_times.get(attempt_id) or rows[-1].answered_at
        events.append(((at, 0, f"{attempt_id:012d}"), QuizEvent(at, attempt_id, tuple(rows))))
    for result in lab_results:
        events.append(((result.at, 1, result.submission_id), LabEvent(result.at, result)))
    events.sort(key=lambda pair: pair[0])
    return [event for _key, event in events]


def kept_evidence(events: Sequence[Event]) -> tuple[dict[str, ItemResponse], dict[str, LabResult]]:
    """The latest response per item and the best result per lab, given time-ordered events."""
    latest: dict[str, ItemResponse] = {}
    best: dict[str, LabResult] = {}
    for event in events:
        if isinstance(event, QuizEvent):
            for response in event.responses:
                latest[response.item_key] = response
        else:
            current = best.get(event.result.lab_slug)
            if current is None or event.result.score >= current.score:
                best[event.result.lab_slug] = event.result
    return latest, best


def observations_by_subskill(
    latest: Mapping[str, ItemResponse], best: Mapping[str, LabResult]
) -> dict[str, list[Observation]]:
    """The kept evidence as plain 2PL observations, grouped by sub-skill."""
    grouped: dict[str, list[Observation]] = {}
    for response in latest.values():
        grouped.setdefault(response.subskill, []).append(item_observation(response))
    for result in best.values():
        grouped.setdefault(result.subskill, []).extend(lab_check_observations(result))
    return grouped


def theta_position(theta: float) -> float:
    """Theta on the radar's 0..1 radius: each level band is a quarter (clamped at +-2)."""
    span = RADAR_THETA_MAX - RADAR_THETA_MIN
    return min(max((theta - RADAR_THETA_MIN) / span, 0.0), 1.0)


def weighted_overall(thetas: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of sub-skill thetas (equal weights when none are given)."""
    total = sum(weights.get(slug, 0.0) for slug in thetas)
    if total <= 0:
        return sum(thetas.values()) / len(thetas) if thetas else 0.0
    return sum(theta * weights.get(slug, 0.0) for slug, theta in thetas.items()) / total


@dataclass
class _SubskillState:
    contributions: dict[str, tuple[list[float], int]] = field(default_factory=dict)
    total: list[float] = field(default_factory=lambda: [0.0] * len(DEFAULT_GRID))
    n: int = 0


class EvidenceAccumulator:
    """Folds time-ordered events into per-sub-skill log-likelihoods on the ability grid."""

    def __init__(self, subskills: Sequence[str]) -> None:
        self.grid = DEFAULT_GRID
        self.states: dict[str, _SubskillState] = {slug: _SubskillState() for slug in subskills}
        self.best_lab: dict[str, float] = {}

    def _replace(self, subskill: str, key: str, observations: Sequence[Observation]) -> None:
        state = self.states.setdefault(subskill, _SubskillState())
        old = state.contributions.pop(key, None)
        if old is not None:
            vector, count = old
            state.total = [t - v for t, v in zip(state.total, vector, strict=True)]
            state.n -= count
        if not observations:
            return
        vector = [0.0] * len(self.grid)
        for obs in observations:
            vector = [v + ll for v, ll in zip(vector, log_likelihood(obs, self.grid), strict=True)]
        state.contributions[key] = (vector, len(observations))
        state.total = [t + v for t, v in zip(state.total, vector, strict=True)]
        state.n += len(observations)

    def apply(self, event: Event) -> set[str]:
        """Fold one event in; returns the sub-skills whose evidence changed."""
        if isinstance(event, QuizEvent):
            touched: set[str] = set()
            for response in event.responses:
                self._replace(response.subskill, f"item:{response.item_key}", [item_observation(response)])
                touched.add(response.subskill)
            return touched
        result = event.result
        current = self.best_lab.get(result.lab_slug)
        if current is not None and result.score < current:
            return set()
        self.best_lab[result.lab_slug] = result.score
        self._replace(result.subskill, f"lab:{result.lab_slug}", lab_check_observations(result))
        return {result.subskill}

    def posterior(self, subskill: str) -> Posterior:
        posterior = Posterior(self.grid)
        state = self.states.get(subskill)
        if state is not None:
            posterior.log_weights = [w + t for w, t in zip(posterior.log_weights, state.total, strict=True)]
            posterior.n = state.n
        return posterior

    def theta(self, subskill: str) -> float:
        return self.posterior(subskill).mean_sd()[0]

    def estimates(self) -> dict[str, Estimate]:
        return {slug: self.posterior(slug).estimate() for slug in self.states}


@dataclass(frozen=True)
class TimelinePoint:
    at: datetime
    overall: float
    thetas: dict[str, float]
    label: str


@dataclass(frozen=True)
class Progression:
    estimates: dict[str, Estimate]
    overall: float
    timeline: list[TimelinePoint]
    latest: dict[str, ItemResponse]
    best: dict[str, LabResult]


def downsample(points: Sequence[TimelinePoint], limit: int = MAX_TIMELINE_POINTS) -> list[TimelinePoint]:
    """At most `limit` points, evenly spread, always keeping the first and the last."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def progression(
    events: Sequence[Event],
    *,
    subskills: Sequence[str],
    weights: Mapping[str, float] | None = None,
) -> Progression:
    """Per-sub-skill estimates from all events, and the ability curve after each event."""
    weights = weights or {}
    accumulator = EvidenceAccumulator(subskills)
    thetas = dict.fromkeys(accumulator.states, 0.0)
    timeline: list[TimelinePoint] = []
    for event in events:
        for slug in accumulator.apply(event):
            thetas[slug] = accumulator.theta(slug)
        label = (
            f"quiz attempt {event.attempt_id}"
            if isinstance(event, QuizEvent)
            else f"lab {event.result.lab_slug}"
        )
        timeline.append(
            TimelinePoint(
                at=event.at,
                overall=weighted_overall(thetas, weights),
                thetas=dict(thetas),
                label=label,
            )
        )
    estimates = accumulator.estimates()
    overall = weighted_overall({slug: est.theta for slug, est in estimates.items()}, weights)
    latest, best = kept_evidence(events)
    return Progression(
        estimates=estimates,
        overall=overall,
        timeline=downsample(timeline),
        latest=latest,
        best=best,
    )
