"""A real OpenID Connect provider for the session, and SSO settings pointing at it."""

from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.sso.oidc_provider import OidcProvider


@pytest.fixture(scope="session")
def oidc_provider_server() -> Iterator[OidcProvider]:
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_provider(oidc_provider_server: OidcProvider) -> Iterator[OidcProvider]:
    oidc_provider_server.reset()
    yield oidc_provider_server
    oidc_provider_server.reset()


@pytest.fixture
def sso_on(settings, oidc_provider: OidcProvider) -> OidcProvider:  # type: ignore[no-untyped-def]
    settings.SSO_OIDC_ISSUER = oidc_provider.issuer
    settings.SSO_OIDC_CLIENT_ID = oidc_provider.client_id
    settings.SSO_OIDC_CLIENT_SECRET = oidc_provider.client_secret
    settings.SSO_DISPLAY_NAME = "Example University"
    return oidc_provider


def sso_start(client, next_url: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Start a sign-in at MLRange; returns the provider's authorization URL it redirected to."""
    path = "/accounts/sso/login/" + ("?" + urlencode({"next": next_url}) if next_url else "")
    response = client.get(path)
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def provider_authorize(authorize_url: str) -> str:
    """What the browser does at the provider: returns the callback path+query it is sent back to."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    callback = urlsplit(response.headers["Location"])
    assert callback.netloc == "testserver"
    return f"{callback.path}?{callback.query}"


def sso_sign_in(client, next_url: str | None = None):  # type: ignore[no-untyped-def]
    """The whole round trip; returns MLRange's answer to the provider's callback."""
    return client.get(provider_authorize(sso_start(client, next_url)))
