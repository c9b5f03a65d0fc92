"""Progressive hints: a learner reveals a lab's hints one at a time, and every reveal is recorded.

The hints live in the lab's manifest (`hints:`, validated by the registry); the database keeps
only which of them each learner has seen and when. A hint's text leaves this module only once
its learner has revealed it.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count

from mlrange.accounts.models import User
from mlrange.common.exceptions import ApplicationError
from mlrange.labs import registry
from mlrange.labs.models import HintReveal, Lab


@dataclass(frozen=True)
class RevealedHint:
    number: int
    text: str
    revealed_at: datetime


@dataclass(frozen=True)
class HintState:
    """What one learner has seen of one lab's hints. Never holds an unrevealed hint's text."""

    total: int
    revealed: tuple[RevealedHint, ...]

    @property
    def used(self) -> int:
        return len(self.revealed)

    @property
    def next_number(self) -> int | None:
        """The number of the hint a reveal would show next; None once all are shown."""
        return self.used + 1 if self.used < self.total else None


def lab_hints(*, lab: Lab) -> tuple[str, ...]:
    """Every hint of the lab, in order (server side only: never send these unrevealed)."""
    try:
        return registry.get_lab(lab.slug).hints
    except KeyError:  # a lab row whose pack folder is gone has no hints to give
        return ()


def hint_state_for_learner(*, learner: User, lab: Lab) -> HintState:
    """The learner's revealed hints of ``lab`` (one query)."""
    hints = lab_hints(lab=lab)
    rows = HintReveal.objects.filter(learner=learner, lab=lab, number__lte=len(hints)).order_by("number")
    revealed = tuple(
        RevealedHint(number=row.number, text=hints[row.number - 1], revealed_at=row.revealed_at)
        for row in rows
    )
    return HintState(total=len(hints), revealed=revealed)


@transaction.atomic
def hint_reveal(*, learner: User, lab: Lab, number: int | None = None) -> HintState:
    """Reveal the learner's next hint of ``lab`` and record when.

    Idempotent when ``number`` is given: asking again for a hint already revealed changes
    nothing (a double-clicked button reveals one hint, not two). Without ``number`` it
    reveals the next hint. Hints are revealed in order; asking to skip one is an error.
    """
    state = hint_state_for_learner(learner=learner, lab=lab)
    if state.total == 0:
        raise ApplicationError("This lab has no hints.")
    if number is not None:
        if not 1 <= number <= state.total:
            raise ApplicationError(f"This lab has hints 1 to {state.total}; there is no hint {number}.")
        if number <= state.used:
            return state
        if number != state.next_number:
            raise ApplicationError(f"Hints come in order: reveal hint {state.next_number} first.")
    if state.next_number is None:
        raise ApplicationError(f"All {state.total} hints of this lab are already shown.")
    # A concurrent reveal of the same hint makes the unique constraint hold get_or_create to one row.
    HintReveal.objects.get_or_create(learner=learner, lab=lab, number=state.next_number)
    return hint_state_for_learner(learner=learner, lab=lab)


@dataclass(frozen=True)
class HintUse:
    """How many of one lab's hints one learner has revealed."""

    learner_id: int
    lab_slug: str
    lab_title: str
    used: int
    total: int


def hint_use_for_learners(*, learner_ids: Iterable[int]) -> list[HintUse]:
    """Hints revealed per learner and lab, for dashboards and cohorts (one query), by lab title."""
    rows = (
        HintReveal.objects.filter(learner_id__in=list(learner_ids))
        .values("learner_id", "lab_id", "lab__slug", "lab__title")
        .annotate(used=Count("pk"))
        .order_by("lab__title", "learner_id")
    )
    totals: dict[str, int] = {}
    uses = []
    for row in rows:
        slug = row["lab__slug"]
        if slug not in totals:
            totals[slug] = len(lab_hints(lab=Lab(slug=slug)))
        uses.append(
            HintUse(
                learner_id=row["learner_id"],
                lab_slug=slug,
                lab_title=row["lab__title"],
                used=min(row["used"], totals[slug]),
                total=totals[slug],
            )
        )
    return uses


def hints_used_by_learner(uses: Iterable[HintUse]) -> dict[int, int]:
    """Total hints revealed per learner id."""
    totals: dict[int, int] = defaultdict(int)
    for use in uses:
        totals[use.learner_id] += use.used
    return dict(totals)
