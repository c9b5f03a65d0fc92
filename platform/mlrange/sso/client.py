"""The OpenID Connect client (Authlib) for the configured provider, one per configuration.

Authlib does the protocol: discovery, the authorization request with state, nonce and PKCE
(S256), the code exchange, the ID token's signature against the provider's JWKS (fetched again
when a token names a key it does not know). The claims it checks are set here, not left to its
defaults: `iss` must be the configured issuer and `aud` must name our client id (Authlib checks
`aud` only when told to).
"""

import functools
from typing import Any

from authlib.integrations.django_client import DjangoOAuth2App, OAuth

from mlrange.sso.config import ProviderConfig

# Seconds to wait for the provider's discovery, token, JWKS and userinfo endpoints.
PROVIDER_TIMEOUT_S = 10
# Clock skew allowed on exp / iat, in seconds.
CLOCK_LEEWAY_S = 60


@functools.cache
def oidc_client(config: ProviderConfig) -> DjangoOAuth2App:
    """The client for `config`; its discovery document and JWKS are kept for the process's life."""
    registry = OAuth()
    endpoints: dict[str, Any] = {"issuer": config.issuer}
    if config.uses_discovery:
        endpoints["server_metadata_url"] = config.discovery_url
    else:
        endpoints.update(
            authorize_url=config.authorization_endpoint,
            access_token_url=config.token_endpoint,
            jwks_uri=config.jwks_uri,
        )
    if config.userinfo_endpoint:
        endpoints["userinfo_endpoint"] = config.userinfo_endpoint
    if config.end_session_endpoint:
        endpoints["end_session_endpoint"] = config.end_session_endpoint
    client: DjangoOAuth2App = registry.register(
        name="sso",
        client_id=config.client_id,
        client_secret=config.client_secret or None,
        client_kwargs={
            "scope": " ".join(config.scopes),
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_S,
        },
        **endpoints,
    )
    return client


def id_token_claims_options(config: ProviderConfig) -> dict[str, dict[str, Any]]:
    """What the ID token must say: our issuer, our client id among its audiences."""
    return {
        "iss": {"essential": True, "value": config.issuer},
        "aud": {"essential": True, "values": [config.client_id]},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
