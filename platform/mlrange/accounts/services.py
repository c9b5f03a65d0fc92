"""Writes for accounts."""

from django.db import transaction

from mlrange.accounts.models import User


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", role: str = User.Role.LEARNER) -> User:
    """Create a user with a hashed password; validation happens in the form or serializer."""
    user = User(username=username, email=email, role=role)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user
