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
