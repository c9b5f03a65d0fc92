"""Writes for accounts: users, the instructor role, API tokens."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from mlrange.accounts.models import User


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", role: str = User.Role.LEARNER) -> User:
    """Create a user with a hashed password; validation happens in the form or serializer.

    Sign-up always creates learners; `role` is for admins and tests.
    """
    user = User(username=username, email=email, role=role)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def user_set_role(*, user: User, role: str) -> User:
    """Grant or take back a role (the instructor role is granted here, never chosen at sign-up)."""
    user.role = role
    user.full_clean()
    user.save(update_fields=["role"])
    return user


def token_ttl() -> timedelta | None:
    """How long an API token is valid after it was issued (settings.TOKEN_TTL_HOURS), or None."""
    hours: float | None = settings.TOKEN_TTL_HOURS
    return timedelta(hours=hours) if hours else None


def token_is_expired(*, token: Token) -> bool:
    ttl = token_ttl()
    return ttl is not None and token.created < timezone.now() - ttl


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """The user's API token: the current one, or a new key when it has expired or there is none."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_is_expired(token=token):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
    return token


def token_revoke_all(*, user: User) -> int:
    """Delete the user's API tokens (after a password change); the next login issues a new key."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
