"""`manage.py grant_instructor USERNAME [--revoke]`: the instructor role, granted by an operator."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mlrange.accounts.models import User
from mlrange.accounts.services import user_set_role


class Command(BaseCommand):
    help = "Grant the instructor role to a user (or take it back with --revoke)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Make the user a learner again.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        role = User.Role.LEARNER if options["revoke"] else User.Role.INSTRUCTOR
        user_set_role(user=user, role=role)
        self.stdout.write(f"{user.username} is now {'a learner' if options['revoke'] else 'an instructor'}.")
