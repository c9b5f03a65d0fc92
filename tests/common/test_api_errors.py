"""The API answers JSON whatever goes wrong: throttled (429), too large (413), unknown (404), broken (500)."""

import json

import pytest
from django.test import override_settings

from mlrange.common.throttling import AnonThrottle, UserThrottle

pytestmark = pytest.mark.django_db


def test_default_anonymous_rate_applies_to_every_api_view(api_client, monkeypatch):
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    statuses = [api_client.get("/api/v1/labs/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_default_user_rate_applies_per_user(learner_client, monkeypatch):
    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", {"user": "2/min"})
    statuses = [learner_client.get("/api/v1/me/progress/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_anonymous_rate_ignores_x_forwarded_for_by_default(api_client, monkeypatch):
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    statuses = [
        api_client.get("/api/v1/labs/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_621_440)
def test_a_3_mb_json_body_is_a_json_413_naming_the_limit(api_client):
    body = json.dumps({"username": "ada", "password": "x" * 3_000_000})
    response = api_client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "2621440 bytes" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_form_body_outside_a_view_is_a_json_413(client):
    # The CSRF middleware reads a form body before any view: Django's own 400 page, made a 413.
    response = client.post("/api/v1/auth/token/", {"username": "x" * 2000, "password": "p"})
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


def test_an_unknown_api_path_is_a_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_on_the_api_is_json(api_client, monkeypatch):
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("mlrange.labs.selectors.lab_list_active", broken)
    api_client.raise_request_exception = False
    response = api_client.get("/api/v1/labs/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "boom" not in response.content.decode()
    assert response.json()["detail"].startswith("Server error")
