"""Rotate API tokens whenever a password changes, whichever path changed it.

Django calls each AUTH_PASSWORD_VALIDATORS entry's `password_changed(password, user)` after a
user with a new password is saved: the password change page, the admin, `changepassword`,
`set_password()` + `save()` alike. This "validator" accepts every password and, on a change,
revokes the user's tokens, so a token that leaked with the old password stops working.
"""

from typing import Any

from mlrange.accounts.models import User
from mlrange.accounts.services import token_revoke_all


class RevokeTokensOnPasswordChange:
    def validate(self, password: str, user: Any = None) -> None:
        """Every password is acceptable here; the other validators judge strength."""

    def password_changed(self, password: str, user: Any = None) -> None:
        if isinstance(user, User) and user.pk is not None:
            token_revoke_all(user=user)

    def get_help_text(self) -> str:
        return "Changing your password revokes your API tokens."
