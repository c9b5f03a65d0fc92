"""A metered oracle's query budget belongs to the learner, across all their executions.

The attack from the tenant-isolation issue, for real: label 60 pool rows in one run, then
come back for a fresh budget in the next. Runs the learner's code through the worker's own
path (``submission_execute``: real kernel, real oracle service in its own jail, real grader).
"""

import json

import pytest
from django.core.management import call_command

from mlrange.labs import assets, registry, services
from mlrange.labs.models import Lab, ServiceMeter, Submission
from mlrange.labs.runner import sandbox_problem, shutdown_pool
from tests.factories import UserFactory

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.django_db]

SLUG = "model-extraction"
PRELUDE = """
import json, sys
import numpy as np
sys.path.insert(0, LAB["assets"])
from oracle_client import OracleError, query, status
pool = np.load(LAB["assets"] + "/pool.npy")
"""


@pytest.fixture(scope="module")
def built():
    problem = sandbox_problem()
    if problem:
        pytest.fail(problem)
    assets.build_lab_assets(registry.get_lab(SLUG))
    yield
    shutdown_pool()


@pytest.fixture
def lab(built) -> Lab:
    call_command("load_curriculum", verbosity=0)
    return Lab.objects.get(slug=SLUG)


def run(learner, lab: Lab, code: str, mode: str = Submission.Mode.RUN) -> Submission:
    submission = Submission.objects.create(learner=learner, lab=lab, mode=mode, cells=[PRELUDE + code])
    services.submission_execute(submission_id=str(submission.pk), worker="test")
    submission.refresh_from_db()
    return submission


def stdout(submission: Submission) -> dict:
    text = "".join(o.get("text", "") for o in submission.outputs if o.get("type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_queries_of_an_earlier_run_count_against_the_next(lab: Lab) -> None:
    learner, other = UserFactory.create(), UserFactory.create()

    first = run(learner, lab, "labels = query(pool[:60]); print(json.dumps(status()))")
    second = run(
        learner,
        lab,
        """
before = status()
try:
    query(pool[60:120])
    refused = False
except OracleError:
    refused = True
print(json.dumps({"before": before, "refused": refused, "after": status()}))
""",
    )
    fresh = run(other, lab, "print(json.dumps(status()))")

    assert stdout(first) == {"used": 60, "budget": 100, "remaining": 40}, first.outputs
    carried = stdout(second)
    assert carried["before"] == {"used": 60, "budget": 100, "remaining": 40}
    assert carried["refused"] is True  # 60 rows > the 40 left: refused whole
    assert stdout(fresh)["remaining"] == 100  # another learner's budget is their own
    meter = ServiceMeter.objects.get(learner=learner, lab=lab, service="oracle")
    assert (meter.used, meter.budget) == (60, 100)


def test_a_graded_run_is_judged_on_the_budget_used_in_all_runs(lab: Lab) -> None:
    learner = UserFactory.create()
    run(learner, lab, "query(pool[:100]); print(json.dumps(status()))")

    graded = run(
        learner,
        lab,
        "print(json.dumps(status()))",
        mode=Submission.Mode.GRADE,
    )

    assert stdout(graded) == {"used": 100, "budget": 100, "remaining": 0}
    budget = next(check for check in graded.checks if check["id"] == "budget")
    assert "100 of your 100 in all of your runs" in budget["feedback"]
