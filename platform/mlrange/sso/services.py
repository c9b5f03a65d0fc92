"""Which account a verified sign-in at the provider opens: linked, matched by verified email, or new.

The rules, in order:
1. An identity (issuer, sub) linked before opens its account, whatever its email says now.
2. Otherwise only a verified email (`email_verified` true, or SSO_TRUST_PROVIDER_EMAIL) may match
   an existing account; an unverified one never does, so whoever controls an IdP account with
   someone else's address cannot take over that person's MLRange account.
3. Staff and superuser accounts are never linked by email: an administrator links them in the
   admin (SSO identities).
   An account linked by email loses its password and API tokens: local sign-up does not verify
   emails, so whoever made it may not own the address (a planted account would otherwise stay
   open to its maker). From then on it signs in through the provider.
4. No match: a new learner with a unique username and no usable password (SSO_CREATE_USERS).
Every sign-in's email must be at one of SSO_ALLOWED_EMAIL_DOMAINS when that list is set.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.accounts.services import token_revoke_all
from mlrange.common.exceptions import ApplicationError
from mlrange.sso.config import ProviderConfig
from mlrange.sso.models import SsoIdentity

USERNAME_MAX = 150
_NOT_USERNAME_CHARS = re.compile(r"[^\w.@+-]", re.ASCII)


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    outcome: str  # "returning", "linked" (an existing account, by verified email) or "created"


class SignInRefusedError(ApplicationError):
    """The provider vouched for someone this MLRange will not sign in; the message says why."""

    status_code = 403


def claim_email_is_verified(*, claims: Mapping[str, Any], config: ProviderConfig) -> bool:
    """True only for a literal true (some providers send the string "true"); without the claim,
    only when SSO_TRUST_PROVIDER_EMAIL says so. An explicit false is always false."""
    verified = claims.get("email_verified")
    if verified is None:
        return config.trust_email
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def username_unique_from_claims(*, claims: Mapping[str, Any]) -> str:
    """A username nobody has: from preferred_username or the email's local part, then a number."""
    email = str(claims.get("email") or "")
    candidates = [str(claims.get("preferred_username") or ""), email.split("@", 1)[0], "user"]
    base = next(
        (_NOT_USERNAME_CHARS.sub("", c) for c in candidates if _NOT_USERNAME_CHARS.sub("", c)), "user"
    )
    base = base[: USERNAME_MAX - 8]
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _email_domain_check(*, email: str, config: ProviderConfig) -> None:
    if not config.allowed_email_domains:
        return
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    if domain not in config.allowed_email_domains:
        raise SignInRefusedError(
            f"{config.display_name} signed you in as {email or 'an account without an email'}, but this "
            f"MLRange accepts only addresses at {', '.join(config.allowed_email_domains)}. Sign in with "
            "your organisation account, or use a local MLRange account."
        )


@transaction.atomic
def sso_user_resolve(*, claims: Mapping[str, Any], config: ProviderConfig) -> SsoSignIn:
    """The account that `claims` (an ID token already checked: signature, iss, aud, exp, nonce) opens."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInRefusedError(f"{config.display_name} did not say who you are (no subject).")
    email = str(claims.get("email") or "").strip()
    email_verified = bool(email) and claim_email_is_verified(claims=claims, config=config)
    if config.allowed_email_domains and not email_verified:
        raise SignInRefusedError(
            f"{config.display_name} did not give a verified email address, and this MLRange accepts "
            "only verified addresses of its organisations. Ask your administrator to verify your email."
        )
    _email_domain_check(email=email, config=config)

    identity = (
        SsoIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=config.issuer, subject=subject)
        .first()
    )
    outcome = "returning"
    if identity is not None:
        user = identity.user
    else:
        try:
            with transaction.atomic():  # a savepoint: a lost race undoes the new account as well
                user, outcome = _user_match_or_create(
                    claims=claims, email=email, email_verified=email_verified, config=config
                )
                identity = SsoIdentity.objects.create(user=user, issuer=config.issuer, subject=subject)
        except IntegrityError:  # the same person's other tab linked this identity a moment ago
            identity = SsoIdentity.objects.select_related("user").get(issuer=config.issuer, subject=subject)
            user, outcome = identity.user, "returning"
    if not user.is_active:
        raise SignInRefusedError("This MLRange account is deactivated. Ask an administrator.")
    identity.email = email if email_verified else ""
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["email", "last_login_at"])
    return SsoSignIn(user=user, outcome=outcome)


def _user_match_or_create(
    *, claims: Mapping[str, Any], email: str, email_verified: bool, config: ProviderConfig
) -> tuple[User, str]:
    if email:
        matches = list(User.objects.filter(email__iexact=email)[:2])
        if matches and not email_verified:
            raise SignInRefusedError(
                f"An MLRange account already uses {email}, but {config.display_name} did not say the "
                "address is verified, so it cannot be linked. Log in with your MLRange password, or ask "
                f"your administrator to verify the address at {config.display_name}."
            )
        if len(matches) > 1:
            raise SignInRefusedError(
                f"More than one MLRange account uses {email}; an administrator must link the right one."
            )
        if matches:
            user = matches[0]
            if user.is_staff or user.is_superuser:
                raise SignInRefusedError(
                    "Administrator accounts are not linked by email. Log in with your MLRange password, "
                    "or ask another administrator to link your account (admin: SSO identities)."
                )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            token_revoke_all(user=user)
            return user, "linked"
    if not config.create_users:
        raise SignInRefusedError(
            f"No MLRange account is linked to your {config.display_name} account, and new accounts are "
            "not created by single sign-on here. Ask an administrator."
        )
    user = User(
        username=username_unique_from_claims(claims=claims),
        email=email if email_verified else "",
        first_name=str(claims.get("given_name") or "")[:150],
        last_name=str(claims.get("family_name") or "")[:150],
        role=User.Role.LEARNER,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user, "created"
