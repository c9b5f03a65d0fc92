"""manage.py build_lab_assets [--force] [--notebooks] [slug ...]: build and install lab assets."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mlrange.labs.assets import AssetBuildError, build_lab_assets, write_starter_notebook
from mlrange.labs.registry import LabSpec, LabValidationError, get_lab, validate_labs


def selected_labs(slugs: list[str]) -> list[LabSpec]:
    """The labs named, each validated on its own (all labs, all validated, when none are named).

    Raises CommandError listing every problem of the labs concerned.
    """
    if not slugs:
        specs, errors = validate_labs()
        if errors:
            raise CommandError("invalid lab packs:\n  " + "\n  ".join(errors))
        return specs
    selected, problems = [], []
    for slug in slugs:
        try:
            selected.append(get_lab(slug))
        except KeyError:
            problems.append(f"unknown lab: {slug}")
        except LabValidationError as exc:
            problems.extend(exc.errors)
    if problems:
        raise CommandError("invalid lab packs:\n  " + "\n  ".join(problems))
    return selected


class Command(BaseCommand):
    help = "Build each lab's assets with its recipe and install them (cached by source hash)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", help="labs to build (default: all)")
        parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
        parser.add_argument(
            "--notebooks",
            action="store_true",
            help="also rewrite each lab's starter.ipynb from its starter.py",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in selected_labs(options["slugs"]):
            if options["notebooks"] and write_starter_notebook(spec):
                self.stdout.write(f"{spec.slug}: rewrote {spec.files.notebook.name}")
            try:
                build = build_lab_assets(spec, force=options["force"])
            except AssetBuildError as exc:
                raise CommandError(str(exc)) from exc
            if build.built:
                self.stdout.write(
                    f"{spec.slug}: built in {build.seconds:.1f} s ({len(build.checksums)} files)"
                )
            else:
                self.stdout.write(f"{spec.slug}: up to date ({len(build.checksums)} files)")
