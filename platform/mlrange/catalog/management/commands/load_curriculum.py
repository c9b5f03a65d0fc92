"""`manage.py load_curriculum`: validate curriculum/ and upsert it into the database."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mlrange.catalog.services import CurriculumInvalidError, curriculum_load


class Command(BaseCommand):
    help = (
        "Validate the curriculum files and load them into the database by slug, in one "
        "transaction. Any error is listed with its file and field and nothing is written. "
        "Idempotent: a second run reports 0 created, 0 updated, 0 deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=None,
            help="Curriculum folder (default: settings.CURRICULUM_DIR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = (options["path"] or Path(settings.CURRICULUM_DIR)).resolve()
        try:
            result = curriculum_load(root=root)
        except CurriculumInvalidError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s) in {root}; nothing was written.") from exc
        for name, report in result.reports.items():
            self.stdout.write(f"{name}: {report}")
        total = result.total
        self.stdout.write(
            self.style.SUCCESS(
                f"Curriculum loaded from {root}: {total.created} created, "
                f"{total.updated} updated, {total.deleted} deleted."
            )
        )
