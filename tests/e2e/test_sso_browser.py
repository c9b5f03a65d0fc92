"""Single sign-on in a real browser: the login page's button, the round trip through a real
OpenID Connect provider (tests/sso/oidc_provider.py) and back, and the refusal page."""

from collections.abc import Iterator

import pytest

from mlrange.accounts.models import User
from tests.e2e.conftest import screenshot
from tests.sso.oidc_provider import OidcProvider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(settings) -> Iterator[OidcProvider]:  # type: ignore[no-untyped-def]
    provider = OidcProvider().start()
    settings.SSO_OIDC_ISSUER = provider.issuer
    settings.SSO_OIDC_CLIENT_ID = provider.client_id
    settings.SSO_OIDC_CLIENT_SECRET = provider.client_secret
    settings.SSO_DISPLAY_NAME = "Example University"
    yield provider
    provider.stop()


def test_sign_in_with_the_organisation_round_trip(live_server, page, provider):
    page.goto(live_server.url + "/accounts/login/?next=/labs/")
    button = page.get_by_role("link", name="Sign in with Example University")
    assert button.is_visible()
    screenshot(page, "sso-login-page")
    button.focus()
    page.keyboard.press("Enter")  # keyboard only
    page.wait_for_url(live_server.url + "/labs/")
    assert page.locator(".account .who").inner_text().startswith("ada.lovelace")
    user = User.objects.get(username="ada.lovelace")
    assert user.sso_identities.get().subject == "user-123"


def test_a_refused_sign_in_shows_why(live_server, page, provider):
    provider.id_token_overrides = {"aud": "another-app"}
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Sign in with Example University").click()
    page.wait_for_url("**/accounts/sso/callback/**")
    assert page.get_by_role("heading", name="Sign-in with Example University failed").is_visible()
    assert "was issued for another application" in page.get_by_role("alert").inner_text()
    screenshot(page, "sso-refused")
    assert not User.objects.exists()
