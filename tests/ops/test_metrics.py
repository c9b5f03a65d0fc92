"""/metrics: request latency by URL pattern, submissions by lab and status, queue depth, worker
heartbeats and ready kernels, the bearer token, and values summed over processes."""

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from mlrange.labs.models import Submission
from mlrange.labs.services import (
    Outcome,
    submission_claim,
    submission_finish,
    submission_take_over_lost,
    submissions_sweep,
)
from mlrange.ops.exposition import worker_exporter_start
from mlrange.ops.models import WorkerHeartbeat
from mlrange.ops.services import worker_heartbeat_record
from tests.factories import UserFactory
from tests.progress.factories import make_catalog, make_lab

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "test-metrics-token"  # noqa: S105 -- a token made up for these tests
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def _metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""


@pytest.fixture
def lab():
    make_catalog()
    return make_lab(slug="metrics-lab")


def scrape(client, **headers) -> dict[str, list]:
    """Samples by metric family name, from a scrape that must succeed."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def value(samples, name: str, **labels: str) -> float | None:
    for sample in samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


def running_submission(lab, *, mode: str = Submission.Mode.GRADE) -> tuple[Submission, int]:
    learner = UserFactory.create()
    submission = Submission.objects.create(learner=learner, lab=lab, mode=mode, cells=["print(1)"])
    delivery = submission_claim(submission_id=str(submission.pk), worker="host:1")
    assert delivery == 1
    return submission, delivery


def test_metrics_answer_404_unless_enabled(client, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


def test_request_latency_is_labelled_by_url_pattern_never_by_path(client, lab):
    submission, _ = running_submission(lab)
    client.get(f"/api/v1/submissions/{submission.pk}/")

    body = client.get("/metrics").content.decode()
    families = {f.name: f.samples for f in text_string_to_metric_families(body)}

    count = value(
        families["mlrange_http_request_duration_seconds"],
        "mlrange_http_request_duration_seconds_count",
        route="api/v1/submissions/<uuid:submission_id>/",
        method="GET",
        status="4xx",  # anonymous: 401
    )
    assert count is not None
    assert count >= 1
    assert not UUID_RE.search(body)


def test_unmatched_paths_and_odd_methods_share_one_label_each(client):
    client.get(f"/no/such/page/{uuid.uuid4()}/")
    client.generic("BREW", "/")

    body = client.get("/metrics").content.decode()
    samples = {f.name: f.samples for f in text_string_to_metric_families(body)}[
        "mlrange_http_request_duration_seconds"
    ]

    assert value(samples, "mlrange_http_request_duration_seconds_count", route="<unmatched>", status="4xx")
    assert value(samples, "mlrange_http_request_duration_seconds_count", route="/", method="other")
    assert "BREW" not in body
    assert not UUID_RE.search(body)


def test_a_finished_submission_is_counted_once_by_lab_mode_and_status_with_its_durations(client, lab):
    labels = {"lab": "metrics-lab", "mode": "grade", "status": "passed"}
    before = REGISTRY.get_sample_value("mlrange_submissions_finished_total", labels) or 0.0
    runs_before = (
        REGISTRY.get_sample_value("mlrange_submission_execution_seconds_count", {"lab": "metrics-lab"}) or 0.0
    )
    submission, delivery = running_submission(lab)
    outcome = Outcome(status=Submission.Status.PASSED, execution_seconds=1.5, grading_seconds=0.25)

    assert submission_finish(submission_id=str(submission.pk), delivery=delivery, outcome=outcome)
    assert not submission_finish(submission_id=str(submission.pk), delivery=delivery, outcome=outcome)

    samples = scrape(client)
    assert (
        value(samples["mlrange_submissions_finished"], "mlrange_submissions_finished_total", **labels)
        == before + 1
    )
    assert (
        value(
            samples["mlrange_submission_execution_seconds"],
            "mlrange_submission_execution_seconds_count",
            lab="metrics-lab",
        )
        == runs_before + 1
    )
    assert value(
        samples["mlrange_submission_grading_seconds"],
        "mlrange_submission_grading_seconds_bucket",
        lab="metrics-lab",
        le="0.25",
    )


def test_a_submission_failed_by_the_sweeper_is_counted_as_an_error(lab):
    labels = {"lab": "metrics-lab", "mode": "run", "status": "error"}
    before = REGISTRY.get_sample_value("mlrange_submissions_finished_total", labels) or 0.0
    submission, _ = running_submission(lab, mode=Submission.Mode.RUN)
    Submission.objects.filter(pk=submission.pk).update(
        deliveries=2, deadline_at=timezone.now() - timedelta(1)
    )

    assert submissions_sweep()["failed"] == 1
    assert submissions_sweep()["failed"] == 0

    assert REGISTRY.get_sample_value("mlrange_submissions_finished_total", labels) == before + 1


def test_a_submission_whose_worker_died_twice_is_counted_as_an_error_when_taken_over(lab):
    labels = {"lab": "metrics-lab", "mode": "grade", "status": "error"}
    before = REGISTRY.get_sample_value("mlrange_submissions_finished_total", labels) or 0.0
    submission, _ = running_submission(lab)
    Submission.objects.filter(pk=submission.pk).update(deliveries=2, worker="host:999999999")  # pid gone

    assert submission_take_over_lost(submission_id=str(submission.pk), worker="host:2") is None

    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.ERROR
    assert REGISTRY.get_sample_value("mlrange_submissions_finished_total", labels) == before + 1


def test_queue_depth_comes_from_the_database(client, lab):
    learner = UserFactory.create()
    for _ in range(2):
        Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["1"])
    running_submission(lab)

    samples = scrape(client)

    assert value(samples["mlrange_submissions_queued"], "mlrange_submissions_queued") == 2
    assert value(samples["mlrange_submissions_running"], "mlrange_submissions_running") == 1
    age = samples["mlrange_submission_oldest_queued_age_seconds"][0].value
    assert 0 <= age < 60
    assert value(samples["mlrange_database_up"], "mlrange_database_up") == 1


def test_ready_kernels_and_start_times_come_from_fresh_worker_heartbeats(client):
    worker_heartbeat_record(
        worker="host-a:101",
        isolation="cgroup",
        sandbox_problem="",
        pools={"torch": {"warm": 3, "starting": 1, "median_start_s": 0.08, "started": 7, "failed_starts": 1}},
    )
    WorkerHeartbeat.objects.create(
        worker="gone:1", last_seen=timezone.now() - timedelta(minutes=5), pools={"torch": {"warm": 2}}
    )

    samples = scrape(client)

    ready = samples["mlrange_kernels_ready"]
    assert value(ready, "mlrange_kernels_ready", worker="host-a:101", profile="torch") == 3
    assert value(ready, "mlrange_kernels_ready", worker="gone:1") is None
    assert (
        value(samples["mlrange_kernel_start_median_seconds"], "mlrange_kernel_start_median_seconds") == 0.08
    )
    assert value(samples["mlrange_kernel_starts"], "mlrange_kernel_starts_total", worker="host-a:101") == 7
    assert value(samples["mlrange_kernel_start_failures"], "mlrange_kernel_start_failures_total") == 1
    ages = samples["mlrange_worker_heartbeat_age_seconds"]
    assert value(ages, "mlrange_worker_heartbeat_age_seconds", worker="host-a:101") < 10
    assert value(ages, "mlrange_worker_heartbeat_age_seconds", worker="gone:1") >= 300
    assert (
        value(samples["mlrange_worker_labs_available"], "mlrange_worker_labs_available", worker="host-a:101")
        == 1
    )


def test_the_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = TOKEN

    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    basic = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 403
    assert basic.status_code == 401
    assert b"mlrange_" not in missing.content + wrong.content + basic.content
    assert "mlrange_submissions_queued" in scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_the_filesystem_queue_reports_its_waiting_messages(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for queue in ("labs", "labs", "default"):
        (tmp_path / f"1700000000000_{uuid.uuid4()}.{queue}.msg").write_text("{}")
    (tmp_path / "stray.txt").write_text("")

    samples = scrape(client)["mlrange_broker_queue_messages"]

    assert value(samples, "mlrange_broker_queue_messages", queue="labs") == 2
    assert value(samples, "mlrange_broker_queue_messages", queue="default") == 1


def test_a_redis_broker_reports_its_list_lengths(client, settings):
    url = os.environ.get("MLRANGE_TEST_REDIS_URL")
    if not url:
        pytest.skip("MLRANGE_TEST_REDIS_URL is not set")
    import redis

    queue = f"metrics-test-{uuid.uuid4().hex}"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ROUTES = {"mlrange.labs.tasks.submission_execute_task": {"queue": queue}}
    connection = redis.Redis.from_url(url)
    connection.rpush(queue, "a", "b", "c")
    connection.rpush(queue + "\x06\x163", "d")
    try:
        samples = scrape(client)
    finally:
        connection.delete(queue, queue + "\x06\x163")

    assert value(samples["mlrange_broker_up"], "mlrange_broker_up") == 1
    assert value(samples["mlrange_broker_queue_messages"], "mlrange_broker_queue_messages", queue=queue) == 4


def test_an_unreachable_redis_broker_is_reported_and_the_scrape_still_answers(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    samples = scrape(client)

    assert value(samples["mlrange_broker_up"], "mlrange_broker_up") == 0
    assert "mlrange_submissions_queued" in samples


def test_values_recorded_by_other_processes_are_summed_in_multiprocess_mode(client, tmp_path, monkeypatch):
    record = (
        "from mlrange.ops import metrics; "
        "metrics.submission_finished(lab='multi-lab', mode='grade', status='failed', execution_seconds=2.0)"
    )
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
    }
    for _ in range(2):  # two processes, as two prefork children would be
        subprocess.run([sys.executable, "-c", record], cwd=ROOT, env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = scrape(client)

    labels = {"lab": "multi-lab", "mode": "grade", "status": "failed"}
    assert value(samples["mlrange_submissions_finished"], "mlrange_submissions_finished_total", **labels) == 2
    assert "mlrange_submissions_queued" in samples  # the database part is still there


def test_the_worker_exporter_serves_its_pool_metrics_behind_the_token():
    server = worker_exporter_start(addr="127.0.0.1", port=0, token=TOKEN)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 -- as above
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert refused.value.code == 401
    assert "mlrange_submissions_finished" in body
    assert "mlrange_submissions_queued" not in body  # the database part is the web's


def test_a_worker_opens_its_exporter_only_when_metrics_are_enabled(settings, monkeypatch):
    from mlrange.ops import apps, exposition

    started: list[dict] = []
    monkeypatch.setattr(exposition, "worker_exporter_start", lambda **kwargs: started.append(kwargs))
    settings.METRICS_WORKER_PORT = 9808
    settings.METRICS_TOKEN = TOKEN

    settings.METRICS_ENABLED = False
    apps._start_metrics_exporter()
    assert started == []

    settings.METRICS_ENABLED = True
    apps._start_metrics_exporter()
    assert started == [{"addr": settings.METRICS_WORKER_ADDR, "port": 9808, "token": TOKEN}]
