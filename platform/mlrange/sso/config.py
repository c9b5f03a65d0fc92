"""The provider's configuration, read from settings (which read the environment) at each use."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str
    discovery_url: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str
    scopes: tuple[str, ...]
    display_name: str
    allowed_email_domains: tuple[str, ...]
    create_users: bool
    trust_email: bool
    logout_at_provider: bool

    @property
    def uses_discovery(self) -> bool:
        return not (self.authorization_endpoint and self.token_endpoint and self.jwks_uri)


def sso_config() -> ProviderConfig | None:
    """The configured provider, or None when single sign-on is off (no issuer or no client id)."""
    issuer: str = settings.SSO_OIDC_ISSUER
    client_id: str = settings.SSO_OIDC_CLIENT_ID
    if not (issuer and client_id):
        return None
    discovery_url: str = settings.SSO_OIDC_DISCOVERY_URL or (
        issuer.rstrip("/") + "/.well-known/openid-configuration"
    )
    return ProviderConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret=settings.SSO_OIDC_CLIENT_SECRET,
        discovery_url=discovery_url,
        authorization_endpoint=settings.SSO_OIDC_AUTHORIZATION_ENDPOINT,
        token_endpoint=settings.SSO_OIDC_TOKEN_ENDPOINT,
        jwks_uri=settings.SSO_OIDC_JWKS_URI,
        userinfo_endpoint=settings.SSO_OIDC_USERINFO_ENDPOINT,
        end_session_endpoint=settings.SSO_OIDC_END_SESSION_ENDPOINT,
        scopes=tuple(settings.SSO_OIDC_SCOPES),
        display_name=settings.SSO_DISPLAY_NAME,
        allowed_email_domains=tuple(d.lower().lstrip("@") for d in settings.SSO_ALLOWED_EMAIL_DOMAINS),
        create_users=settings.SSO_CREATE_USERS,
        trust_email=settings.SSO_TRUST_PROVIDER_EMAIL,
        logout_at_provider=settings.SSO_LOGOUT_AT_PROVIDER,
    )
