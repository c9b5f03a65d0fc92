"""Recalibration from simulated responses moves a mis-set difficulty toward the truth."""

# ruff: noqa: S311 -- seeded, reproducible simulations; nothing here is cryptographic

import random
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.assessments.irt import p_correct
from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz

TRUE_B = -0.8


def _simulate(item: Item, n: int, seed: int = 4) -> None:
    rng = random.Random(seed)
    quiz = Quiz.objects.get(slug="practice-model-security")
    users = User.objects.bulk_create([User(username=f"sim{i}") for i in range(n)])
    attempts = []
    for user in users:
        theta = rng.gauss(0, 1)
        attempts.append(
            Attempt(
                learner=user,
                quiz=quiz,
                seed=1,
                status=Attempt.Status.SUBMITTED,
                submitted_at=timezone.now(),
                results={"subskills": [{"slug": "model-security", "theta": theta}]},
            )
        )
    Attempt.objects.bulk_create(attempts)
    rows = []
    for attempt in attempts:
        theta = attempt.results["subskills"][0]["theta"]
        score = 1.0 if rng.random() < p_correct(theta, 1.0, TRUE_B, item.irt_c) else 0.0
        rows.append(
            AttemptItem(
                attempt=attempt,
                item=item,
                position=1,
                response="a",
                score=score,
                answered_at=timezone.now(),
            )
        )
    AttemptItem.objects.bulk_create(rows)


def test_recalibrate_moves_a_misset_b_toward_the_truth_and_prints_statistics(bank):
    item = Item.objects.get(key="ms-b-001")
    Item.objects.filter(pk=item.pk).update(irt_b=1.0)  # mis-set: far too hard
    _simulate(item, 400)
    out = StringIO()
    call_command("recalibrate_items", "--min-responses", "50", stdout=out)
    item.refresh_from_db()
    assert abs(item.irt_b - TRUE_B) < 0.3
    assert item.is_calibrated
    assert item.calibration_responses == 400
    text = out.getvalue()
    assert "ms-b-001" in text
    assert "1 recalibrated" in text


def test_recalibrate_leaves_items_with_too_few_responses_and_dry_run_saves_nothing(bank):
    item = Item.objects.get(key="ms-b-001")
    _simulate(item, 40)
    call_command("recalibrate_items", "--min-responses", "50", stdout=StringIO())
    item.refresh_from_db()
    assert (item.irt_b, item.is_calibrated) == (-1.4, False)
    call_command("recalibrate_items", "--min-responses", "10", "--dry-run", stdout=StringIO())
    item.refresh_from_db()
    assert (item.irt_b, item.is_calibrated) == (-1.4, False)


def test_item_with_no_relation_to_ability_is_flagged_weak(bank):
    item = Item.objects.get(key="ms-b-001")
    _simulate(item, 200)
    AttemptItem.objects.filter(item=item).update(score=1.0)
    rows = list(AttemptItem.objects.filter(item=item).order_by("pk"))
    for row in rows[::2]:
        row.score = 0.0
    AttemptItem.objects.bulk_update(rows, ["score"])
    out = StringIO()
    call_command("recalibrate_items", "--dry-run", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("ms-b-001"))
    assert "WEAK" in line
