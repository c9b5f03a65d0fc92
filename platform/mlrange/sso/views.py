"""Sign in with the organisation's provider: start, callback, and logout there too.

Every view answers 404 while single sign-on is off. Errors the provider, the network or a
forged callback cause get a page that says what went wrong and that local login still works.
"""

import logging
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)

from mlrange.accounts.views import safe_next_url
from mlrange.sso.client import CLOCK_LEEWAY_S, id_token_claims_options, oidc_client
from mlrange.sso.config import ProviderConfig, sso_config
from mlrange.sso.services import SignInRefusedError, sso_user_resolve

logger = logging.getLogger(__name__)

SESSION_NEXT = "sso_next"
SESSION_ID_TOKEN = "sso_id_token"  # noqa: S105 -- a session key's name; kept for the logout at the provider (id_token_hint)

_CLAIM_PROBLEMS = {
    "iss": "was issued by another provider than the one configured",
    "aud": "was issued for another application, not this MLRange",
    "azp": "was issued for another application, not this MLRange",
    "nonce": "does not belong to this sign-in (its nonce does not match)",
    "exp": "has expired",
    "iat": "has an invalid issue time",
    "sub": "does not say who you are",
}


def _config_or_404() -> ProviderConfig:
    config = sso_config()
    if config is None:
        raise Http404("Single sign-on is not configured.")
    return config


def _failure(request: HttpRequest, config: ProviderConfig, problem: str, *, status: int) -> HttpResponse:
    context = {"display_name": config.display_name, "problem": problem}
    return render(request, "sso/failed.html", context, status=status)


@require_GET
def sso_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider; `?next=` is kept (when it stays on this site) for after."""
    config = _config_or_404()
    request.session[SESSION_NEXT] = safe_next_url(request, default=reverse(settings.LOGIN_REDIRECT_URL))
    redirect_uri = request.build_absolute_uri(reverse("sso:callback"))
    try:
        response: HttpResponse = oidc_client(config).authorize_redirect(request, redirect_uri)
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        logger.warning("sso.discovery_failed issuer=%s error=%s", config.issuer, exc)
        return _failure(
            request, config, f"{config.display_name}'s sign-in service could not be reached.", status=502
        )
    return response


class _CallbackFailedError(Exception):
    def __init__(self, problem: str, *, status: int = 400) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status


def _id_token_from_callback(request: HttpRequest, config: ProviderConfig) -> dict[str, Any]:
    """Authlib's code exchange and ID token checks, each failure turned into words for a person."""
    name = config.display_name
    try:
        token: dict[str, Any] = oidc_client(config).authorize_access_token(
            request, claims_options=id_token_claims_options(config), leeway=CLOCK_LEEWAY_S
        )
    except OAuthError as exc:
        logger.info("sso.callback_refused error=%s", exc.error)
        if exc.error == "mismatching_state":
            raise _CallbackFailedError(
                "This sign-in answer does not belong to a sign-in started in this browser, or was "
                "already used. Start again from the login page."
            ) from exc
        reason = f"{exc.error}: {exc.description or 'no reason given'}"
        raise _CallbackFailedError(f"{name} refused the sign-in ({reason}).") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = getattr(exc, "claim", "") or str(exc)
        logger.warning("sso.id_token_rejected claim=%s", claim)
        what = _CLAIM_PROBLEMS.get(claim, f"has a wrong or missing {claim!r} claim")
        raise _CallbackFailedError(f"The identity token from {name} {what}.") from exc
    except ExpiredTokenError as exc:
        raise _CallbackFailedError(f"The identity token from {name} has expired.") from exc
    except (BadSignatureError, InvalidKeyIdError) as exc:
        logger.warning("sso.id_token_bad_signature issuer=%s", config.issuer)
        raise _CallbackFailedError(
            f"The identity token's signature does not match {name}'s published keys."
        ) from exc
    except JoseError as exc:
        logger.warning("sso.id_token_invalid error=%s", exc)
        raise _CallbackFailedError(f"The identity token from {name} is not valid ({exc.error}).") from exc
    except requests.RequestException as exc:
        logger.warning("sso.provider_unreachable issuer=%s error=%s", config.issuer, exc)
        raise _CallbackFailedError(f"{name}'s sign-in service could not be reached.", status=502) from exc
    if not token.get("userinfo"):
        raise _CallbackFailedError(f"{name} sent no identity token.")
    return token


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: check it all, then sign in the account it opens."""
    config = _config_or_404()
    try:
        token = _id_token_from_callback(request, config)
    except _CallbackFailedError as failed:
        return _failure(request, config, failed.problem, status=failed.status)
    claims = dict(token["userinfo"])
    client = oidc_client(config)
    if "email_verified" not in claims and client.load_server_metadata().get("userinfo_endpoint"):
        # Some providers say whether the email is verified only at userinfo: its email and
        # email_verified replace the ID token's together, so they describe the same address.
        from_userinfo = _userinfo_claims(client=client, token=token, subject=claims["sub"])
        if "email" in from_userinfo:
            claims.update(from_userinfo)
    try:
        sign_in = sso_user_resolve(claims=claims, config=config)
    except SignInRefusedError as exc:
        logger.info("sso.sign_in_refused issuer=%s subject=%s", config.issuer, claims.get("sub"))
        return _failure(request, config, exc.message, status=exc.status_code)

    next_url = request.session.pop(SESSION_NEXT, None) or reverse(settings.LOGIN_REDIRECT_URL)
    login(request, sign_in.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_ID_TOKEN] = token.get("id_token", "")
    if sign_in.outcome == "linked":
        messages.info(
            request,
            f"Your MLRange account is now linked to {config.display_name}: sign in with it from now on "
            "(its MLRange password and API tokens no longer work).",
        )
    logger.info("sso.signed_in user_id=%s outcome=%s", sign_in.user.pk, sign_in.outcome)
    return redirect(next_url)


def _userinfo_claims(*, client: DjangoOAuth2App, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """Email claims from the userinfo endpoint, only when its `sub` is the ID token's (OIDC Core 5.3.2)."""
    try:
        info = dict(client.userinfo(token=token))
    except requests.RequestException:
        return {}
    if info.get("sub") != subject:
        return {}
    return {key: info[key] for key in ("email", "email_verified") if key in info}


@require_POST
def sso_logout(request: HttpRequest) -> HttpResponse:
    """Log out here, then at the provider (SSO_LOGOUT_AT_PROVIDER) when it has an end-session endpoint."""
    config = _config_or_404()
    id_token = request.session.get(SESSION_ID_TOKEN, "")
    logout(request)
    home = request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL))
    if config.logout_at_provider and id_token:
        client = oidc_client(config)
        try:
            end_session = client.load_server_metadata().get("end_session_endpoint")
        except requests.RequestException:
            end_session = None
        if end_session:
            response: HttpResponse = client.logout_redirect(
                request, post_logout_redirect_uri=home, id_token_hint=id_token
            )
            return response
    return redirect(home)
