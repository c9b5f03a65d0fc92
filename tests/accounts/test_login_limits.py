"""Every login path is limited: failed logins lock a username for an address (django-axes), and
the token endpoint is throttled per address; the address ignores a client's X-Forwarded-For."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db

TOKEN_API = "/api/v1/auth/token/"  # noqa: S105 -- a URL, not a password
WRONG = {"username": "ada", "password": "not the password"}
RIGHT = {"username": "ada", "password": "correct horse battery staple"}


def _spoofed(i: int) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.{i % 250 + 1}"}


def test_rotating_x_forwarded_for_does_not_escape_the_token_lockout(api_client, learner):
    responses = [api_client.post(TOKEN_API, WRONG, format="json", **_spoofed(i)) for i in range(40)]
    statuses = [r.status_code for r in responses]
    assert statuses[:4] == [400] * 4
    assert set(statuses[4:]) == {429}  # locked at the 5th failure (LOGIN_FAILURE_LIMIT)
    assert all("Too many failed logins" in r.json()["detail"] for r in responses[4:10])
    assert all(r.json()["detail"].startswith("Request was throttled") for r in responses[10:])
    cache.clear()  # past the per-minute throttle: the lockout alone still refuses the right password
    response = api_client.post(TOKEN_API, RIGHT, format="json", **_spoofed(99))
    assert response.status_code == 429
    body = response.json()
    assert "Too many failed logins" in body["detail"]
    assert body["retry_after_seconds"] == 15 * 60
    assert response["Retry-After"] == str(15 * 60)


def test_token_lockout_is_per_address_and_username(api_client, learner):
    for _ in range(5):
        api_client.post(TOKEN_API, WRONG, format="json", REMOTE_ADDR="198.51.100.7")
    assert api_client.post(TOKEN_API, RIGHT, format="json", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert api_client.post(TOKEN_API, RIGHT, format="json", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_token_endpoint_is_throttled_per_address_whatever_the_header(api_client, learner):
    statuses = [
        api_client.post(
            TOKEN_API, {"username": f"user{i}", "password": "x"}, format="json", **_spoofed(i)
        ).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [400] * 10  # the `auth` scope: 10 a minute
    assert statuses[10:] == [429, 429]


def test_throttled_token_request_says_when_to_retry(api_client, learner):
    for i in range(10):
        api_client.post(TOKEN_API, {"username": f"user{i}", "password": "x"}, format="json")
    response = api_client.post(TOKEN_API, RIGHT, format="json")
    assert response.status_code == 429
    body = response.json()
    assert body["detail"].startswith("Request was throttled.")
    assert 0 < body["retry_after_seconds"] <= 60
    assert response["Retry-After"] == str(body["retry_after_seconds"])


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_address_is_the_one_it_appended(api_client, learner):
    # The proxy appends the peer it saw; what the client wrote to the left is not believed.
    for i in range(5):
        api_client.post(TOKEN_API, WRONG, format="json", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 192.0.2.10")
    locked = api_client.post(TOKEN_API, RIGHT, format="json", HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.10")
    other = api_client.post(TOKEN_API, RIGHT, format="json", HTTP_X_FORWARDED_FOR="192.0.2.10, 192.0.2.11")
    assert (locked.status_code, other.status_code) == (429, 200)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


def test_login_page_locks_out_after_the_failure_limit(client, learner):
    statuses = [client.post("/accounts/login/", WRONG, **_spoofed(i)).status_code for i in range(6)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert statuses[4:] == [429, 429]
    response = client.post("/accounts/login/", RIGHT)
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert response["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_admin_login_locks_out_after_the_failure_limit(client, learner):
    learner.is_staff = True
    learner.save(update_fields=["is_staff"])
    for i in range(5):
        client.post("/admin/login/", WRONG, **_spoofed(i))
    response = client.post("/admin/login/", RIGHT)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_count(client, learner):
    for _ in range(4):
        client.post("/accounts/login/", WRONG)
    assert client.post("/accounts/login/", RIGHT).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert client.post("/accounts/login/", WRONG).status_code == 200


def test_an_overlong_username_is_a_400_before_any_lookup(api_client):
    """A failed login is recorded with its username in a 255-character column: on PostgreSQL an
    overlong one used to end in a 500 (found by the schemathesis run)."""
    response = api_client.post(TOKEN_API, {"username": "u" * 300, "password": "whatever"}, format="json")

    assert response.status_code == 400
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()
