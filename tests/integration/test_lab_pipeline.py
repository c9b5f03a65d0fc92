"""Lab submissions end to end: HTTP API -> database -> broker -> real Celery worker -> sandboxed
kernel -> sandboxed grader -> database, and what happens when the worker, the broker or the
kernel dies on the way. Every submission must end in a clear final state."""

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from mlrange.labs import services
from mlrange.labs.models import Submission
from tests.integration.conftest import purge_broker, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LAB = "adversarial-examples"
SOLUTIONS = Path(settings.LABS_DIR) / LAB / "solutions"


def _submit(client: APIClient, *, code: str, mode: str = "grade") -> str:
    response = client.post(f"/api/v1/labs/{LAB}/submissions/", {"mode": mode, "code": code}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _tiers(submission: Submission) -> dict[str, bool]:
    return {c["id"]: c["passed"] for c in submission.checks if c["id"] in {"untargeted", "targeted"}}


def _final(submission_id: str, timeout: float = 90.0) -> Submission:
    assert wait_for(lambda: Submission.objects.get(pk=submission_id).is_final, timeout=timeout, interval=0.1)
    return Submission.objects.get(pk=submission_id)


def test_reference_solution_is_graded_passed_through_the_api(loaded, lab_worker, client_for):
    worker = lab_worker()
    client = client_for("ada")
    submission_id = _submit(client, code=(SOLUTIONS / "reference_pgd.py").read_text())
    body = client.get(f"/api/v1/submissions/{submission_id}/").json()
    assert body["status"] in {"queued", "running", "passed"}
    submission = _final(submission_id)
    assert submission.status == Submission.Status.PASSED, (submission.message, worker.output()[-3000:])
    assert submission.score == 100
    assert submission.grading_seconds > 0
    assert submission.execution_seconds > 0
    assert _tiers(submission) == {"untargeted": True, "targeted": True}
    body = client.get(f"/api/v1/submissions/{submission_id}/").json()
    assert body["passed"] is True
    assert body["is_final"] is True


def test_fgsm_passes_only_the_first_tier_and_starter_fails(loaded, lab_worker, client_for):
    lab_worker()
    client = client_for("ada")
    fgsm = _final(_submit(client, code=(SOLUTIONS / "fgsm.py").read_text()))
    starter = _final(_submit(client, code=(Path(settings.LABS_DIR) / LAB / "starter.py").read_text()))
    assert fgsm.status == Submission.Status.FAILED
    assert _tiers(fgsm) == {"untargeted": True, "targeted": False}
    assert starter.status == Submission.Status.FAILED
    assert starter.score == 0


def test_scratch_run_returns_output_and_no_score(loaded, lab_worker, client_for):
    lab_worker(preload="import numpy")
    client = client_for("ada")
    submission = _final(_submit(client, code="print(1 + 1)", mode="run"))
    assert submission.status == Submission.Status.COMPLETED
    assert submission.score is None
    assert {"type": "stream", "name": "stdout", "text": "2\n", "cell": 1} in submission.outputs


def test_printing_a_perfect_score_or_faking_results_changes_nothing(loaded, lab_worker, client_for):
    lab_worker()
    client = client_for("mallory")
    cheat = """
import json, numpy as np
print("score: 100")
print(json.dumps({"score": 100, "passed": True, "checks": []}))
open("result.json", "w").write('{"score": 100, "passed": true}')
np.save("adv_untargeted.npy", np.load(LAB["assets"] + "/x_eval.npy"))
np.save("adv_targeted.npy", np.load(LAB["assets"] + "/x_eval.npy"))
"""
    submission = _final(_submit(client, code=cheat))
    assert submission.status == Submission.Status.FAILED
    assert submission.score == 0


def test_monkeypatching_torch_inside_the_kernel_does_not_fool_the_grader(loaded, lab_worker, client_for):
    lab_worker()
    client = client_for("mallory")
    cheat = """
import numpy as np, torch
torch.Tensor.argmax = lambda self, *a, **k: torch.zeros(self.shape[0], dtype=torch.long)
np.argmax = lambda *a, **k: 0
x = np.load(LAB["assets"] + "/x_eval.npy")
np.save("adv_untargeted.npy", x)
np.save("adv_targeted.npy", x)
"""
    submission = _final(_submit(client, code=cheat))
    assert submission.status == Submission.Status.FAILED
    assert submission.score == 0


def test_crashed_kernel_gives_a_clear_error_and_the_worker_keeps_serving(loaded, lab_worker, client_for):
    lab_worker(preload="import numpy")
    client = client_for("ada")
    crashed = _final(
        _submit(client, code="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", mode="run")
    )
    assert crashed.status == Submission.Status.ERROR
    assert "kernel running your code died" in crashed.message
    after = _final(_submit(client, code="print('still here')", mode="run"))
    assert after.status == Submission.Status.COMPLETED


def test_killed_worker_mid_run_is_requeued_by_the_sweeper_and_finishes(loaded, lab_worker, client_for):
    first = lab_worker(preload="import numpy")
    client = client_for("ada")
    submission_id = _submit(client, code="import time\ntime.sleep(4)\nprint('done')", mode="run")
    assert wait_for(lambda: Submission.objects.get(pk=submission_id).status == "running", timeout=60)
    first.kill(signal.SIGKILL)  # the whole worker process group: main process, child, its sandboxes
    time.sleep(0.5)
    assert Submission.objects.get(pk=submission_id).status == Submission.Status.RUNNING
    swept = services.submissions_sweep(
        now=timezone.now() + timedelta(seconds=settings.LABS_SUBMISSION_DEADLINE + 1)
    )
    assert swept["requeued"] == 1
    lab_worker(preload="import numpy")
    submission = _final(submission_id)
    assert submission.status == Submission.Status.COMPLETED
    assert submission.deliveries == 2
    assert {"type": "stream", "name": "stdout", "text": "done\n", "cell": 1} in submission.outputs


def test_submission_lost_by_the_broker_is_redelivered_by_the_sweeper(loaded, lab_worker, client_for):
    client = client_for("ada")
    submission_id = _submit(client, code="print('survived')", mode="run")
    purge_broker()  # what a restart of a broker that keeps nothing on disk does to queued messages
    services.submissions_sweep(now=timezone.now() + timedelta(minutes=10))
    lab_worker(preload="import numpy")
    submission = _final(submission_id)
    assert submission.status == Submission.Status.COMPLETED


def test_second_delivery_of_a_finished_submission_changes_nothing(loaded, client_for):
    client = client_for("ada")
    submission_id = _submit(client, code="print(1)", mode="run")
    Submission.objects.filter(pk=submission_id).update(status=Submission.Status.COMPLETED, message="first")
    services.submission_execute(submission_id=submission_id, worker="late-worker")
    submission = Submission.objects.get(pk=submission_id)
    assert (submission.status, submission.message, submission.deliveries) == ("completed", "first", 0)


def _holder_pid(submission_id: str) -> int:
    return int(Submission.objects.get(pk=submission_id).worker.rpartition(":")[2])


def test_a_submission_that_loses_its_worker_twice_is_failed_and_the_worker_serves_on(
    loaded, lab_worker, client_for
):
    """A poison message: each delivery's worker process is killed mid-run. The redelivery is
    taken over at once (no waiting for the sweeper), once; the second loss finalises it."""
    worker = lab_worker(preload="import numpy")
    client = client_for("ada")
    submission_id = _submit(client, code="import time\ntime.sleep(60)", mode="run")
    assert wait_for(lambda: Submission.objects.get(pk=submission_id).status == "running", timeout=60)
    first_pid = _holder_pid(submission_id)
    os.kill(first_pid, signal.SIGKILL)  # the prefork child; Celery's main process survives
    assert wait_for(
        lambda: (
            Submission.objects.get(pk=submission_id).deliveries == 2
            and _holder_pid(submission_id) != first_pid
        ),
        timeout=90,
    ), worker.output()[-3000:]
    os.kill(_holder_pid(submission_id), signal.SIGKILL)

    submission = _final(submission_id)

    assert submission.status == Submission.Status.ERROR
    assert "stopped twice" in submission.message
    assert submission.deliveries == 2
    after = _final(_submit(client, code="print('still serving')", mode="run"))
    assert after.status == Submission.Status.COMPLETED


def test_worker_processes_report_heartbeats_with_ready_kernels(loaded, lab_worker, client_for):
    from mlrange.ops.models import WorkerHeartbeat

    lab_worker(preload="import numpy")
    client = client_for("ada")
    assert _final(_submit(client, code="print(1)", mode="run")).status == Submission.Status.COMPLETED

    assert wait_for(
        lambda: any(row.pools.get("torch", {}).get("warm", 0) >= 1 for row in WorkerHeartbeat.objects.all()),
        timeout=60,
    )
    beat = WorkerHeartbeat.objects.exclude(pools={}).first()
    assert beat is not None
    assert beat.isolation == "cgroup"
    assert beat.sandbox_problem == ""
