"""Sign up, log in, log out, password change, roles, and API tokens."""

import pytest
from django.urls import reverse

from mlrange.accounts.models import User

pytestmark = pytest.mark.django_db


def test_signup_creates_learner_and_logs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie",
            "email": "",
            "password1": "s3cure-Passphrase!",
            "password2": "s3cure-Passphrase!",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == User.Role.LEARNER
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_ignores_a_posted_instructor_role(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "teach",
            "role": "instructor",
            "password1": "s3cure-Passphrase!",
            "password2": "s3cure-Passphrase!",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="teach").role == User.Role.LEARNER


def test_signup_page_offers_no_role_choice(client):
    response = client.get(reverse("accounts:signup"))
    assert b'name="role"' not in response.content


def test_signup_rejects_weak_password_with_message(client):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "weak", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="weak").exists()
    assert b"too short" in response.content


def test_login_and_logout(client, learner):
    response = client.post(
        reverse("accounts:login"), {"username": "ada", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(learner.pk)
    client.post(reverse("accounts:logout"))
    assert "_auth_user_id" not in client.session


def test_password_change(client, learner):
    client.force_login(learner)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "An0ther-long-phrase",
            "new_password2": "An0ther-long-phrase",
        },
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password("An0ther-long-phrase")


def test_token_endpoint_returns_token_for_valid_credentials(api_client, learner):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "ada", "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = api_client.get("/api/v1/health/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200


def test_token_endpoint_rejects_bad_credentials_with_400(api_client, learner):
    response = api_client.post("/api/v1/auth/token/", {"username": "ada", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in str(response.json())


def test_admin_requires_staff(client, learner):
    client.force_login(learner)
    assert client.get("/admin/").status_code == 302
    learner.is_staff = True
    learner.save()
    assert client.get("/admin/").status_code == 200
