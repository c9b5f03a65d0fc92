"""Single sign-on against a real OpenID Connect provider (tests/sso/oidc_provider.py) over HTTP:
accounts created or linked only by verified email, forged or replayed answers refused with a
page that says why, `?next=` kept on this site, local login and its lockout unchanged."""

import html

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from mlrange.accounts.models import User
from mlrange.sso.models import SsoIdentity
from tests.factories import UserFactory
from tests.sso.conftest import provider_authorize, sso_sign_in, sso_start

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 -- the factories' test password
DASHBOARD = "/dashboard/"
LANDING = "/"  # settings.LOGIN_REDIRECT_URL, as after a local login


def _signed_in_user(client) -> User | None:  # type: ignore[no-untyped-def]
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# Off unless configured


def test_sso_off_shows_no_button_and_its_urls_are_404(client):
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    assert b"Sign in with" not in page.content
    assert client.get("/accounts/sso/login/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404
    assert client.post("/accounts/sso/logout/").status_code == 404


def test_login_page_offers_sign_in_with_the_organisation_when_configured(client, sso_on):
    page = client.get(reverse("accounts:login") + "?next=/labs/")
    assert b"Sign in with Example University" in page.content
    assert b'href="/accounts/sso/login/?next=%2Flabs%2F"' in page.content
    assert b'name="password"' in page.content  # the local login form stays


def test_sign_in_redirects_to_the_provider_with_state_nonce_and_pkce(client, sso_on):
    authorize_url = sso_start(client)
    assert authorize_url.startswith(sso_on.issuer + "/authorize?")
    for param in ("state=", "nonce=", "code_challenge=", "code_challenge_method=S256", "client_id=mlrange"):
        assert param in authorize_url
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Fsso%2Fcallback%2F" in authorize_url


# Who signs in


def test_first_sign_in_creates_a_learner_with_a_unique_username(client, sso_on):
    UserFactory.create(username="ada.lovelace", email="someone-else@example.org")
    response = sso_sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == LANDING
    user = _signed_in_user(client)
    assert user is not None
    assert user.username == "ada.lovelace-2"
    assert user.email == "ada.lovelace@uni.example"
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert user.role == User.Role.LEARNER
    assert not user.has_usable_password()
    identity = SsoIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (sso_on.issuer, "user-123")


def test_a_username_with_odd_characters_becomes_a_valid_one(client, sso_on):
    sso_on.claims["preferred_username"] = "Zoë O'Neil <script>"
    sso_sign_in(client)
    user = _signed_in_user(client)
    assert user is not None
    user.full_clean()  # Django's username validator accepts it
    assert not set("<>' ") & set(user.username)


def test_a_linked_identity_signs_in_to_its_account_even_after_its_email_changed(client, sso_on):
    sso_sign_in(client)
    first = _signed_in_user(client)
    client.logout()
    sso_on.claims["email"] = "ada.new-address@uni.example"
    response = sso_sign_in(client)
    assert response.status_code == 302
    assert _signed_in_user(client) == first
    assert User.objects.count() == 1


def test_verified_email_links_the_existing_account_and_retires_its_password(client, sso_on):
    grace = UserFactory.create(username="grace", email="Grace.Hopper@uni.example")
    Token.objects.create(user=grace)
    sso_on.claims.update(sub="grace-sub", email="grace.hopper@uni.example", preferred_username="ghopper")
    response = sso_sign_in(client)
    assert response.status_code == 302
    assert _signed_in_user(client) == grace
    assert SsoIdentity.objects.get(subject="grace-sub").user == grace
    grace.refresh_from_db()
    assert not grace.has_usable_password()  # whoever planted the account cannot log in with it
    assert not Token.objects.filter(user=grace).exists()
    assert "now linked to Example University" in client.get(DASHBOARD).content.decode()


@pytest.mark.parametrize("email_verified", [False, "false", None, "yes"])
def test_an_unverified_email_never_links_an_existing_account(client, sso_on, email_verified):
    """The attack: an IdP account carrying the victim's address, unverified, must not open theirs."""
    victim = UserFactory.create(username="victim", email="victim@uni.example")
    sso_on.claims.update(sub="attacker-sub", email="victim@uni.example", preferred_username="victim")
    if email_verified is None:
        del sso_on.claims["email_verified"]
    else:
        sso_on.claims["email_verified"] = email_verified
    response = sso_sign_in(client)
    assert response.status_code == 403
    assert "did not say the address is verified" in response.content.decode()
    assert _signed_in_user(client) is None
    assert not SsoIdentity.objects.exists()
    assert User.objects.count() == 1
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)


def test_linking_by_email_ends_the_sessions_of_whoever_knew_the_password(client, sso_on):
    """The planted account: someone signed up with the victim's address before the victim came."""
    from django.test import Client

    UserFactory.create(username="planted", email="victim@uni.example")
    planter = Client()
    assert (
        planter.post(reverse("accounts:login"), {"username": "planted", "password": PASSWORD}).status_code
        == 302
    )
    sso_on.claims.update(sub="victim-sub", email="victim@uni.example")
    sso_sign_in(client)
    assert _signed_in_user(client) is not None
    assert planter.get(DASHBOARD).wsgi_request.user.is_anonymous
    response = planter.post(reverse("accounts:login"), {"username": "planted", "password": PASSWORD})
    assert response.status_code == 200  # the form again: the password no longer works


def test_provider_email_is_trusted_without_the_claim_only_when_configured(client, sso_on, settings):
    grace = UserFactory.create(username="grace", email="grace@uni.example")
    sso_on.claims = {"sub": "grace-sub", "email": "grace@uni.example"}  # no email_verified anywhere
    sso_on.userinfo_claims = {"sub": "grace-sub", "email": "grace@uni.example"}
    assert sso_sign_in(client).status_code == 403
    settings.SSO_TRUST_PROVIDER_EMAIL = True
    assert sso_sign_in(client).status_code == 302
    assert _signed_in_user(client) == grace


def test_an_explicitly_unverified_email_is_refused_even_when_provider_emails_are_trusted(
    client, sso_on, settings
):
    settings.SSO_TRUST_PROVIDER_EMAIL = True
    UserFactory.create(username="grace", email="grace@uni.example")
    sso_on.claims.update(sub="grace-sub", email="grace@uni.example", email_verified=False)
    assert sso_sign_in(client).status_code == 403
    assert _signed_in_user(client) is None


def test_an_unverified_email_with_no_account_gets_a_new_account_without_that_email(client, sso_on):
    sso_on.claims["email_verified"] = False
    sso_sign_in(client)
    user = _signed_in_user(client)
    assert user is not None
    assert user.email == ""


def test_staff_accounts_are_not_linked_by_email(client, sso_on):
    UserFactory.create(username="root", email="root@uni.example", is_staff=True)
    sso_on.claims.update(sub="root-sub", email="root@uni.example")
    response = sso_sign_in(client)
    assert response.status_code == 403
    assert "Administrator accounts are not linked by email" in response.content.decode()
    assert _signed_in_user(client) is None


def test_allowed_email_domains_refuse_other_domains(client, sso_on, settings):
    settings.SSO_ALLOWED_EMAIL_DOMAINS = ["staff.uni.example"]
    response = sso_sign_in(client)
    assert response.status_code == 403
    assert "accepts only addresses at staff.uni.example" in response.content.decode()
    assert not User.objects.exists()
    sso_on.claims["email"] = "ada@STAFF.uni.example"
    assert sso_sign_in(client).status_code == 302


def test_new_accounts_can_be_turned_off(client, sso_on, settings):
    settings.SSO_CREATE_USERS = False
    response = sso_sign_in(client)
    assert response.status_code == 403
    assert not User.objects.exists()


def test_a_deactivated_account_is_refused(client, sso_on):
    sso_sign_in(client)
    user = _signed_in_user(client)
    assert user is not None
    client.logout()
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = sso_sign_in(client)
    assert response.status_code == 403
    assert _signed_in_user(client) is None


def test_email_verified_only_at_userinfo_is_read_from_there(client, sso_on):
    grace = UserFactory.create(username="grace", email="grace@uni.example")
    sso_on.claims = {"sub": "grace-sub", "email": "grace@uni.example"}
    sso_on.userinfo_claims = {"sub": "grace-sub", "email": "grace@uni.example", "email_verified": True}
    sso_sign_in(client)
    assert _signed_in_user(client) == grace


def test_email_missing_from_the_id_token_is_read_from_userinfo(client, sso_on):
    grace = UserFactory.create(username="grace", email="grace@uni.example")
    sso_on.claims = {"sub": "grace-sub"}
    sso_on.userinfo_claims = {"sub": "grace-sub", "email": "grace@uni.example", "email_verified": True}
    sso_sign_in(client)
    assert _signed_in_user(client) == grace


def test_userinfo_for_another_subject_is_ignored(client, sso_on):
    UserFactory.create(username="grace", email="grace@uni.example")
    sso_on.claims = {"sub": "mallory-sub"}
    sso_on.userinfo_claims = {"sub": "grace-sub", "email": "grace@uni.example", "email_verified": True}
    sso_sign_in(client)
    user = _signed_in_user(client)
    assert user is not None
    assert user.username != "grace"
    assert user.email == ""


# Forged, replayed and broken answers


def test_a_replayed_callback_is_refused(client, sso_on):
    callback = provider_authorize(sso_start(client))
    assert client.get(callback).status_code == 302
    client.logout()
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "already used" in replay.content.decode()
    assert _signed_in_user(client) is None


def test_a_callback_from_another_browser_is_refused(client, sso_on):
    """Login CSRF: an attacker's own code and state, sent to the victim's browser, sign nobody in."""
    from django.test import Client

    attacker = Client()
    callback = provider_authorize(sso_start(attacker))
    response = client.get(callback)
    assert response.status_code == 400
    assert "does not belong to a sign-in started in this browser" in response.content.decode()
    assert _signed_in_user(client) is None
    assert not User.objects.exists()


def test_a_forged_state_is_refused(client, sso_on):
    callback = provider_authorize(sso_start(client))
    forged = callback.replace("state=", "state=forged")
    assert client.get(forged).status_code == 400
    assert _signed_in_user(client) is None


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"iss": "https://evil.example"}, "was issued by another provider than the one configured"),
        ({"aud": "another-app"}, "was issued for another application"),
        # azp names us: only the audience check itself catches this one.
        ({"aud": "another-app", "azp": "mlrange"}, "was issued for another application"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "has expired"),
        ({"nonce": "a-nonce-from-another-sign-in"}, "does not belong to this sign-in"),
    ],
    ids=["wrong-issuer", "wrong-audience", "wrong-audience-with-azp", "expired", "wrong-nonce"],
)
def test_an_id_token_with_wrong_claims_is_refused_with_a_clear_page(client, sso_on, tamper, message):
    sso_on.id_token_overrides = tamper
    response = sso_sign_in(client)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sign-in with Example University failed" in body
    assert message in body
    assert _signed_in_user(client) is None
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("sign_with", "message"),
    [("other-key", "signature does not match"), ("none", "is not valid")],
    ids=["bad-signature", "unsigned"],
)
def test_an_id_token_not_signed_by_the_provider_is_refused(client, sso_on, sign_with, message):
    sso_on.sign_with = sign_with
    response = sso_sign_in(client)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _signed_in_user(client) is None
    assert not User.objects.exists()


def test_the_provider_refusing_says_so(client, sso_on):
    sso_on.deny_with = "access_denied"
    response = sso_sign_in(client)
    assert response.status_code == 400
    assert "Example University refused the sign-in (access_denied" in response.content.decode()


def test_an_unreachable_provider_gives_a_clear_page(client, settings):
    settings.SSO_OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.SSO_OIDC_CLIENT_ID = "mlrange"
    settings.SSO_DISPLAY_NAME = "Nowhere Corp"
    response = client.get("/accounts/sso/login/")
    assert response.status_code == 502
    assert "Nowhere Corp's sign-in service could not be reached" in html.unescape(response.content.decode())


def test_endpoints_given_without_discovery_work(client, sso_on, settings):
    settings.SSO_OIDC_DISCOVERY_URL = sso_on.issuer + "/no-such-document"
    settings.SSO_OIDC_AUTHORIZATION_ENDPOINT = sso_on.issuer + "/authorize"
    settings.SSO_OIDC_TOKEN_ENDPOINT = sso_on.issuer + "/token"
    settings.SSO_OIDC_JWKS_URI = sso_on.issuer + "/jwks"
    assert sso_sign_in(client).status_code == 302
    assert _signed_in_user(client) is not None


# next, logout, local login


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/labs/", "/labs/"),
        ("https://evil.example/phish", LANDING),
        ("//evil.example/phish", LANDING),
        ("/\\evil.example", LANDING),
    ],
)
def test_next_is_followed_only_when_it_stays_on_this_site(client, sso_on, next_url, lands_on):
    response = sso_sign_in(client, next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_logging_out_ends_an_sso_session(client, sso_on):
    sso_sign_in(client)
    page = client.get(DASHBOARD).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in page
    client.post(reverse("accounts:logout"))
    assert _signed_in_user(client) is None
    assert sso_on.logouts == []


def test_logout_at_the_provider_when_configured(client, sso_on, settings):
    settings.SSO_LOGOUT_AT_PROVIDER = True
    sso_sign_in(client)
    page = client.get(DASHBOARD).content.decode()
    assert 'action="/accounts/sso/logout/"' in page
    response = client.post("/accounts/sso/logout/")
    assert _signed_in_user(client) is None
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(sso_on.issuer + "/logout?")
    assert "id_token_hint=" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2F" in location


def test_local_login_still_works_with_sso_on(client, sso_on):
    UserFactory.create(username="ada")
    response = client.post(reverse("accounts:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert _signed_in_user(client) is not None


def test_local_login_lockout_still_applies_with_sso_on(client, sso_on):
    UserFactory.create(username="ada")
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "ada", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert _signed_in_user(client) is None


def test_a_rotated_provider_key_is_fetched_again(client, sso_on):
    """The JWKS is kept between sign-ins; a token signed with a new key makes it fetched anew."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert sso_sign_in(client).status_code == 302
    client.logout()
    old_key, old_kid = sso_on.key, sso_on.kid
    sso_on.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sso_on.kid = "test-key-2"
    try:
        assert sso_sign_in(client).status_code == 302
        assert _signed_in_user(client) is not None
    finally:
        sso_on.key, sso_on.kid = old_key, old_kid


def test_an_administrator_links_an_account_in_the_admin(client, db):
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        "/admin/sso/ssoidentity/add/",
        {"user": root.pk, "issuer": "https://idp.example", "subject": "root-sub", "email": ""},
    )
    assert response.status_code == 302
    assert SsoIdentity.objects.get(subject="root-sub").user == root
    assert b"root-sub" in client.get("/admin/sso/ssoidentity/").content
