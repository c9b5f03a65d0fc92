"""API token authentication with an optional lifetime (settings.TOKEN_TTL_HOURS)."""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from mlrange.accounts.services import token_is_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; a key older than TOKEN_TTL_HOURS is refused (401)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token=token):
            raise exceptions.AuthenticationFailed(
                "Token has expired; get a new one from /api/v1/auth/token/."
            )
        return user, token
