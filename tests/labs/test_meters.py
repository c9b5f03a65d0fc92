"""Metered lab services: a budget per learner and variant, reserved whole by each execution."""

from mlrange.labs.meters import meter_reserve, meter_settle
from mlrange.labs.models import ServiceMeter
from tests.factories import UserFactory

VARIANT = {"query_budget": 100, "attack_rows": [1, 2, 3]}


def reserve(learner, lab, variant=VARIANT):
    return meter_reserve(learner_id=learner.pk, lab=lab, service="oracle", variant=variant, budget=100)


def test_a_concurrent_execution_gets_nothing_while_another_holds_the_budget(lab):
    learner = UserFactory.create()

    first = reserve(learner, lab)
    second = reserve(learner, lab)

    assert (first.previously_used, first.allowance) == (0, 100)
    assert (second.previously_used, second.allowance) == (100, 0)


def test_settling_gives_back_what_was_not_served(lab):
    learner = UserFactory.create()
    grant = reserve(learner, lab)

    meter_settle(grant=grant, served=35)

    assert ServiceMeter.objects.get().used == 35
    assert reserve(learner, lab).allowance == 65


def test_an_execution_without_a_report_keeps_its_reservation_spent(lab):
    learner = UserFactory.create()
    meter_settle(grant=reserve(learner, lab), served=None)

    assert ServiceMeter.objects.get().used == 100


def test_a_service_cannot_give_back_more_than_it_was_granted(lab):
    learner = UserFactory.create()
    meter_settle(grant=reserve(learner, lab), served=-50)

    assert ServiceMeter.objects.get().used == 0


def test_budgets_are_per_learner_and_per_variant(lab):
    learner, other = UserFactory.create(), UserFactory.create()
    reserve(learner, lab)

    assert reserve(other, lab).allowance == 100
    assert reserve(learner, lab, {**VARIANT, "attack_rows": [4]}).allowance == 100
