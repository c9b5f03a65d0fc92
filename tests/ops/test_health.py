"""The health endpoint says which sandbox isolation runs labs, and why labs cannot run."""

import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_the_sandbox_isolation(client, settings):
    settings.SANDBOX_ISOLATION = "single-user"
    body = client.get("/api/v1/health/").json()
    assert body["sandbox"]["isolation"] == "single-user"
    assert body["sandbox"]["labs_available"] is (body["sandbox"]["problem"] is None)


def test_health_says_why_labs_cannot_run(client, settings, tmp_path):
    settings.SANDBOX_RUNTIME = tmp_path / "missing"
    sandbox = client.get("/api/v1/health/").json()["sandbox"]
    assert sandbox["labs_available"] is False
    assert "make runtime" in sandbox["problem"]


def test_health_lists_workers_heard_from_recently_with_their_ready_kernels(client):
    from datetime import timedelta

    from django.utils import timezone

    from mlrange.ops.models import WorkerHeartbeat
    from mlrange.ops.services import worker_heartbeat_record

    worker_heartbeat_record(
        worker="host-a:101", isolation="cgroup", sandbox_problem="", pools={"torch": {"warm": 3}}
    )
    WorkerHeartbeat.objects.create(worker="gone:1", last_seen=timezone.now() - timedelta(minutes=5))

    workers = client.get("/api/v1/health/").json()["workers"]

    assert [w["worker"] for w in workers] == ["host-a:101"]
    assert workers[0]["ready_kernels"] == {"torch": 3}
    assert workers[0]["labs_available"] is True
