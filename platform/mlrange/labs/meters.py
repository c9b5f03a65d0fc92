"""Per-learner lab seeds and metered lab-service budgets (what an execution may use).

The runner reads these before and after an execution; services (the write side of
submissions) does not need them. Kept apart so that runner imports no services: services
calls the runner, never the other way round.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from mlrange.labs.models import Lab, ServiceMeter


def learner_lab_seed(*, learner_id: int, lab_slug: str) -> int:
    """A per-learner, per-lab seed the learner cannot choose or predict (HMAC with SECRET_KEY)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{lab_slug}:{learner_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:4], "big")


@dataclass(frozen=True)
class MeterGrant:
    """What one execution may use of a metered service: ``allowance`` of the ``budget``, after
    ``previously_used`` by the learner's earlier executions of the same variant."""

    meter_id: int
    budget: int
    previously_used: int
    allowance: int

    def params(self) -> dict[str, int]:
        return {"budget": self.budget, "previously_used": self.previously_used, "allowance": self.allowance}


def variant_key(variant: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(variant, sort_keys=True).encode()).hexdigest()[:32]


@transaction.atomic
def meter_reserve(
    *, learner_id: int, lab: Lab, service: str, variant: dict[str, Any], budget: int
) -> MeterGrant:
    """Reserve everything left of the learner's budget for one execution (a concurrent
    execution then gets nothing). Call ``meter_settle`` with what was served."""
    meter, _ = ServiceMeter.objects.get_or_create(
        learner_id=learner_id,
        lab=lab,
        service=service,
        variant_key=variant_key(variant),
        defaults={"budget": budget},
    )
    meter = ServiceMeter.objects.select_for_update().get(pk=meter.pk)
    allowance = max(budget - meter.used, 0)
    grant = MeterGrant(meter_id=meter.pk, budget=budget, previously_used=meter.used, allowance=allowance)
    meter.used += allowance
    meter.budget = budget
    meter.save(update_fields=["used", "budget", "updated_at"])
    return grant


def meter_settle(*, grant: MeterGrant, served: int | None) -> None:
    """Give back the part of the reservation the execution did not use. ``served`` None (the
    service left no readable report) keeps the whole reservation spent."""
    if served is None:
        return
    unused = grant.allowance - min(max(served, 0), grant.allowance)
    if unused:
        ServiceMeter.objects.filter(pk=grant.meter_id, used__gte=unused).update(used=F("used") - unused)
