"""Recalibrating the bank's 2PL parameters from real responses, and item statistics.

Method (fixed-ability calibration, one step of joint maximum likelihood): each learner's
ability in a sub-skill is the EAP theta stored on their submitted attempt; holding those
fixed, each item with at least `min_responses` answers gets (a, b) re-estimated by
`irt.fit_item` (MAP with weak priors centred on the current values; b only if fit_a is
False). Abilities from EAP are shrunk toward 0, which slightly attenuates a; b moves
toward the truth, which is what matters most for selection and scoring.

Statistics per item: count, proportion correct (mean score), and the point-biserial
correlation between the item score and the learner's estimated theta in that sub-skill
(an adaptive test has no common total score). Items below 0.15 are flagged as weak.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from mlrange.assessments.irt import fit_item, point_biserial
from mlrange.assessments.models import Attempt, AttemptItem, Item

WEAK_POINT_BISERIAL = 0.15


@dataclass(frozen=True)
class ItemStatistics:
    key: str
    count: int
    p_correct: float
    point_biserial: float | None
    old_a: float
    old_b: float
    new_a: float | None
    new_b: float | None

    @property
    def is_weak(self) -> bool:
        return self.point_biserial is not None and self.point_biserial < WEAK_POINT_BISERIAL


def _responses_by_item() -> dict[int, list[tuple[float, float]]]:
    """item id -> [(theta of the learner in the item's sub-skill, score)] from closed attempts."""
    rows = (
        AttemptItem.objects.filter(
            answered_at__isnull=False,
            attempt__status__in=(Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED),
        )
        .select_related("attempt", "item__subskill")
        .only("score", "item_id", "item__subskill__slug", "attempt__results")
    )
    data: dict[int, list[tuple[float, float]]] = {}
    for row in rows.iterator(chunk_size=2000):
        thetas = {e["slug"]: e["theta"] for e in row.attempt.results.get("subskills", [])}
        theta = thetas.get(row.item.subskill.slug)
        if theta is None:
            continue
        data.setdefault(row.item_id, []).append((float(theta), float(row.score or 0.0)))
    return data


@transaction.atomic
def items_recalibrate(
    *, min_responses: int = 30, fit_a: bool = True, dry_run: bool = False
) -> list[ItemStatistics]:
    """Statistics for every item with responses; new (a, b) for those with >= min_responses.

    Unless dry_run, the new parameters are saved and the item is marked calibrated.
    """
    responses = _responses_by_item()
    stats: list[ItemStatistics] = []
    now = timezone.now()
    for item in Item.objects.filter(pk__in=list(responses)).order_by("key"):
        pairs = responses[item.pk]
        thetas = [t for t, _ in pairs]
        scores = [s for _, s in pairs]
        new_a = new_b = None
        old_a, old_b = item.irt_a, item.irt_b
        if len(pairs) >= min_responses:
            new_a, new_b = fit_item(thetas, scores, a0=item.irt_a, b0=item.irt_b, c=item.irt_c, fit_a=fit_a)
            if not dry_run:
                item.irt_a, item.irt_b = round(new_a, 4), round(new_b, 4)
                item.is_calibrated = True
                item.calibrated_at = now
                item.calibration_responses = len(pairs)
                item.save(
                    update_fields=[
                        "irt_a",
                        "irt_b",
                        "is_calibrated",
                        "calibrated_at",
                        "calibration_responses",
                    ]
                )
        stats.append(
            ItemStatistics(
                key=item.key,
                count=len(pairs),
                p_correct=sum(scores) / len(scores),
                point_biserial=point_biserial(scores, thetas),
                old_a=old_a,
                old_b=old_b,
                new_a=new_a,
                new_b=new_b,
            )
        )
    return stats
