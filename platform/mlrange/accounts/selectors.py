"""Reads for accounts."""

from typing import Any

from rest_framework.exceptions import NotAuthenticated

from mlrange.accounts.models import User


def user_from_request(request: Any) -> User:
    """The authenticated user of a request (views behind IsAuthenticated / login_required)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
