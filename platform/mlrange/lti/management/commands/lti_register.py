"""manage.py lti_register: register an LMS (LTI 1.3 platform) and print the URLs it needs."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from mlrange.lti.services import registration_upsert


class Command(BaseCommand):
    help = (
        "Register an LTI 1.3 platform (LMS) by issuer and client id, with its deployment ids and "
        "its auth-login, token and keyset URLs; prints the tool URLs to enter in the LMS. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="A name for people, e.g. 'University Canvas'.")
        parser.add_argument(
            "--issuer",
            required=True,
            help="The platform's issuer (iss), e.g. https://canvas.instructure.com.",
        )
        parser.add_argument("--client-id", required=True, help="The client id the LMS gave MLRange.")
        parser.add_argument(
            "--deployment-id",
            action="append",
            default=[],
            dest="deployment_ids",
            help="Repeat for each deployment.",
        )
        parser.add_argument("--auth-login-url", required=True, help="The platform's OIDC authentication URL.")
        parser.add_argument("--token-url", required=True, help="The platform's OAuth2 access token URL.")
        parser.add_argument("--keyset-url", required=True, help="The platform's JWKS (public keyset) URL.")
        parser.add_argument(
            "--base-url",
            default="https://mlrange.example.org",
            help="Where MLRange is served, for the printed URLs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["deployment_ids"]:
            raise CommandError(
                "Give at least one --deployment-id (the LMS shows it when MLRange is installed)."
            )
        try:
            registration = registration_upsert(
                name=options["name"],
                issuer=options["issuer"],
                client_id=options["client_id"],
                deployment_ids=options["deployment_ids"],
                auth_login_url=options["auth_login_url"],
                token_url=options["token_url"],
                keyset_url=options["keyset_url"],
            )
        except ValidationError as error:
            raise CommandError(f"Not registered: {error.message_dict}") from error
        base = options["base_url"].rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"Registered {registration.name} ({registration.issuer})."))
        for label, name in (
            ("OIDC login initiation URL", "lti:login"),
            ("Launch (redirect / target link) URL", "lti:launch"),
            ("Deep linking URL", "lti:launch"),
            ("Public JWKS URL", "lti:jwks"),
            ("Canvas JSON configuration URL", "lti:canvas_config"),
        ):
            self.stdout.write(f"{label}: {base}{reverse(name)}")
