"""API tokens rotate on a password change and may expire; `?next=` stays on this site; the
instructor role is granted by an operator, never chosen."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from mlrange.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 -- the factories' test password
EVIL = "https://evil.example/phish"


def _token(api_client, username: str = "ada", password: str = PASSWORD) -> str:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def _me(api_client, key: str) -> int:
    return int(api_client.get("/api/v1/me/progress/", HTTP_AUTHORIZATION=f"Token {key}").status_code)


def test_password_change_page_revokes_api_tokens(client, api_client, learner):
    old = _token(api_client)
    client.force_login(learner)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "An0ther-long-phrase",
            "new_password2": "An0ther-long-phrase",
        },
    )
    assert response.status_code == 302
    assert _me(api_client, old) == 401
    new = _token(api_client, password="An0ther-long-phrase")  # noqa: S106 -- a test password
    assert new != old
    assert _me(api_client, new) == 200


def test_any_password_change_revokes_tokens_admin_and_shell_alike(api_client, learner):
    old = _token(api_client)
    learner.set_password("Yet-another-phrase-9")
    learner.save()
    assert not Token.objects.filter(key=old).exists()


def test_saving_a_user_without_a_new_password_keeps_the_token(api_client, learner):
    key = _token(api_client)
    learner.email = "ada@example.org"
    learner.save()
    assert _me(api_client, key) == 200


@override_settings(TOKEN_TTL_HOURS=1)
def test_an_expired_token_is_refused_and_a_new_one_issued(api_client, learner):
    key = _token(api_client)
    assert _me(api_client, key) == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=2))
    response = api_client.get("/api/v1/me/progress/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    fresh = _token(api_client)
    assert fresh != key
    assert _me(api_client, fresh) == 200


def test_without_a_ttl_tokens_do_not_expire(api_client, learner):
    key = _token(api_client)
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=3650))
    assert _me(api_client, key) == 200
    assert _token(api_client) == key


def test_signup_never_redirects_off_site(client):
    response = client.post(
        reverse("accounts:signup") + f"?next={EVIL}",
        {"username": "newbie", "password1": "s3cure-Passphrase!", "password2": "s3cure-Passphrase!"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("progress:dashboard")


def test_signup_follows_a_local_next(client):
    response = client.post(
        reverse("accounts:signup") + "?next=/labs/",
        {"username": "newbie", "password1": "s3cure-Passphrase!", "password2": "s3cure-Passphrase!"},
    )
    assert response["Location"] == "/labs/"


@pytest.mark.parametrize("evil", [EVIL, "//evil.example/", "https:/evil.example", "/\\evil.example"])
def test_login_never_redirects_off_site(client, learner, evil):
    response = client.post(
        reverse("accounts:login") + f"?next={evil}", {"username": "ada", "password": PASSWORD, "next": evil}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_logout_never_redirects_off_site(client, learner):
    client.force_login(learner)
    response = client.post(reverse("accounts:logout") + f"?next={EVIL}")
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_grant_instructor_command_grants_and_revokes(learner):
    call_command("grant_instructor", "ada")
    learner.refresh_from_db()
    assert learner.is_instructor
    call_command("grant_instructor", "ada", "--revoke")
    learner.refresh_from_db()
    assert not learner.is_instructor


def test_grant_instructor_command_names_a_missing_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("grant_instructor", "nobody")


def test_admin_action_grants_the_instructor_role(client, learner):
    admin_user = UserFactory.create(username="root", is_staff=True)
    admin_user.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/", {"action": "grant_instructor", "_selected_action": [learner.pk]}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=learner.pk).is_instructor
