"""The labs API: validation with messages that say what to fix, limits, and who may see what."""

import json
import threading
import time
from datetime import timedelta

import nbformat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from mlrange.labs.models import Submission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/labs/adversarial-examples/submissions/"


def _notebook(*sources: str, markdown: str = "# notes") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), *(nbformat.v4.new_code_cell(s) for s in sources)]
    return nbformat.writes(nb).encode()


def test_submission_is_recorded_before_queueing_and_returns_202(
    learner_client, lab, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    assert response.status_code == 202
    body = response.json()
    submission = Submission.objects.get(pk=body["id"])
    assert (submission.status, submission.cells, body["queue_position"]) == ("queued", ["print(1)"], 1)
    assert len(callbacks) == 1  # the doorbell rings only after the row is committed


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"mode": "grade"}, "Send either `code` or `notebook`"),
        ({"mode": "explode", "code": "x"}, "is not a valid choice"),
        ({"mode": "run", "code": "   "}, "The code is empty"),
    ],
)
def test_bad_input_is_a_400_that_says_what_to_fix(learner_client, lab, payload, message):
    response = learner_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert not Submission.objects.exists()


@override_settings(LABS_MAX_CODE_BYTES=100)
def test_oversized_code_is_refused(learner_client, lab):
    response = learner_client.post(URL, {"mode": "run", "code": "x = 1\n" * 50}, format="json")
    assert response.status_code == 400
    assert "the limit is 100" in response.json()["detail"]


def test_notebook_code_cells_run_in_order(learner_client, lab):
    upload = SimpleUploadedFile(
        "work.ipynb", _notebook("a = 1", "print(a + 1)"), content_type="application/json"
    )
    response = learner_client.post(URL, {"mode": "run", "notebook": upload}, format="multipart")
    assert response.status_code == 202, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.cells == ["a = 1", "print(a + 1)"]
    assert (submission.source, submission.notebook_name) == ("notebook", "work.ipynb")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "not a Jupyter notebook"),
        (b'{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "invalid"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_broken_notebook_is_refused_with_a_reason(learner_client, lab, content, message):
    upload = SimpleUploadedFile("bad.ipynb", content)
    response = learner_client.post(URL, {"mode": "run", "notebook": upload}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_notebook_without_code_is_refused(learner_client, lab):
    upload = SimpleUploadedFile("empty.ipynb", _notebook())
    response = learner_client.post(URL, {"mode": "run", "notebook": upload}, format="multipart")
    assert response.status_code == 400
    assert "no code cells" in response.json()["detail"]


@override_settings(LABS_MAX_NOTEBOOK_BYTES=500)
def test_oversized_notebook_is_refused(learner_client, lab):
    upload = SimpleUploadedFile("big.ipynb", _notebook("x = 1\n" * 200))
    response = learner_client.post(URL, {"mode": "run", "notebook": upload}, format="multipart")
    assert response.status_code == 400
    assert "Clear its outputs" in response.json()["detail"]


@override_settings(LABS_MAX_IN_FLIGHT=2)
def test_runs_in_flight_are_capped_with_429(learner_client, lab):
    for _ in range(2):
        assert learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").status_code == 202
    response = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    assert response.status_code == 429
    assert "wait for one to finish" in response.json()["detail"]
    Submission.objects.update(status=Submission.Status.COMPLETED)
    assert learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").status_code == 202


def test_labs_refuse_to_run_without_the_sandbox(learner_client, lab, settings, tmp_path):
    settings.SANDBOX_RUNTIME = tmp_path / "no-runtime"
    response = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    assert response.status_code == 503
    assert "make runtime" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_labs_refuse_to_run_without_bubblewrap(learner_client, lab, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    response = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    assert response.status_code == 503
    assert "apt-get install bubblewrap" in response.json()["detail"]


def test_anonymous_cannot_submit(api_client, lab):
    assert api_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").status_code == 401


def test_another_learners_submission_is_a_404(learner_client, lab):
    mallory = UserFactory.create(username="mallory")
    theirs = Submission.objects.create(learner=mallory, lab=lab, mode="run", cells=["secret = 42"])
    response = learner_client.get(f"/api/v1/submissions/{theirs.pk}/")
    assert response.status_code == 404
    assert "secret" not in response.content.decode()


def test_unknown_submission_id_and_unknown_lab_are_404(learner_client, lab):
    assert learner_client.get("/api/v1/submissions/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert learner_client.get("/api/v1/submissions/not-a-uuid/").status_code == 404
    assert (
        learner_client.post(
            "/api/v1/labs/nope/submissions/", {"mode": "run", "code": "1"}, format="json"
        ).status_code
        == 404
    )


def test_my_submissions_lists_only_mine(learner_client, learner, lab):
    Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["1"])
    Submission.objects.create(learner=UserFactory.create(username="eve"), lab=lab, mode="run", cells=["2"])
    response = learner_client.get("/api/v1/labs/adversarial-examples/submissions/mine/")
    assert response.status_code == 200
    assert len(response.json()) == 1


def test_queue_position_counts_submissions_ahead(learner_client, lab):
    other = UserFactory.create(username="bob")
    Submission.objects.create(learner=other, lab=lab, mode="run", cells=["1"])
    Submission.objects.create(
        learner=other, lab=lab, mode="run", cells=["1"], status=Submission.Status.RUNNING
    )
    response = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    assert response.json()["queue_position"] == 2


@override_settings(LABS_GRADES_PER_HOUR=3, LABS_MAX_IN_FLIGHT=100)
def test_graded_submissions_per_lab_are_rate_limited_with_retry_after(learner_client, lab):
    for _ in range(3):
        assert learner_client.post(URL, {"mode": "grade", "code": "x = 1"}, format="json").status_code == 202

    refused = learner_client.post(URL, {"mode": "grade", "code": "x = 1"}, format="json")

    assert refused.status_code == 429
    body = refused.json()
    assert "3 times in the last hour" in body["detail"]
    assert 0 < body["retry_after_seconds"] <= 3600
    assert refused["Retry-After"] == str(body["retry_after_seconds"])
    assert Submission.objects.filter(mode=Submission.Mode.GRADE).count() == 3
    # Scratch runs stay available, and the allowance frees up as the hour slides.
    assert learner_client.post(URL, {"mode": "run", "code": "x = 1"}, format="json").status_code == 202
    Submission.objects.filter(mode=Submission.Mode.GRADE).update(
        created_at=timezone.now() - timedelta(hours=1, seconds=1)
    )
    assert learner_client.post(URL, {"mode": "grade", "code": "x = 1"}, format="json").status_code == 202


@pytest.mark.django_db(transaction=True)
def test_wait_answers_the_moment_the_submission_is_final(learner_client, lab):
    created = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").json()

    def finish_soon() -> None:
        time.sleep(0.3)
        Submission.objects.filter(pk=created["id"]).update(status=Submission.Status.COMPLETED)

    finisher = threading.Thread(target=finish_soon)
    finisher.start()
    body = learner_client.get(f"/api/v1/submissions/{created['id']}/?wait=20").json()
    finisher.join()

    assert body["status"] == "completed"  # not "queued": the request waited for the result


def test_wait_gives_up_with_the_current_state(learner_client, lab):
    created = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").json()
    body = learner_client.get(f"/api/v1/submissions/{created['id']}/?wait=0.2").json()
    assert body["status"] == "queued"


@pytest.mark.parametrize("wait", ["-1", "31", "soon"])
def test_wait_out_of_range_is_a_400_that_says_so(learner_client, lab, wait):
    created = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json").json()
    response = learner_client.get(f"/api/v1/submissions/{created['id']}/?wait={wait}")
    assert response.status_code == 400
    assert "wait" in response.json()


def test_waiting_on_another_learners_submission_is_a_404(learner_client, lab):
    other = APIClient()
    other.force_authenticate(UserFactory.create())
    created = other.post(URL, {"mode": "run", "code": "print(1)"}, format="json").json()
    assert learner_client.get(f"/api/v1/submissions/{created['id']}/?wait=1").status_code == 404


def test_the_web_asks_the_workers_whether_labs_can_run(learner_client, lab, settings, tmp_path):
    from mlrange.ops.services import worker_heartbeat_record

    settings.SANDBOX_RUNTIME = tmp_path / "not-on-the-web-host"  # the web's own host cannot run labs
    worker_heartbeat_record(worker="lab-host:7", isolation="cgroup", sandbox_problem="", pools={})

    accepted = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")

    assert accepted.status_code == 202


def test_workers_that_cannot_run_labs_say_why(learner_client, lab):
    from mlrange.ops.services import worker_heartbeat_record

    worker_heartbeat_record(
        worker="lab-host:7", isolation="cgroup", sandbox_problem="Labs are unavailable: no cgroup", pools={}
    )

    refused = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")

    assert refused.status_code == 503
    assert "no cgroup" in refused.json()["detail"]
    assert not Submission.objects.exists()


def test_submissions_are_throttled_per_learner(learner_client, lab, monkeypatch):
    from mlrange.common.throttling import ScopedThrottle

    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"submissions": "1/min"})
    first = learner_client.post(URL, {"mode": "run", "code": "print(1)"}, format="json")
    second = learner_client.post(URL, {"mode": "run", "code": "print(2)"}, format="json")
    assert first.status_code == 202
    assert second.status_code == 429
    assert second.json()["detail"].startswith("Request was throttled.")
    assert second.has_header("Retry-After")
    assert Submission.objects.count() == 1
