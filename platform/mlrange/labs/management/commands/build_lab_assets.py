"""manage.py build_lab_assets [--force] [--notebooks] [slug ...]: build and install lab assets."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mlrange.labs.assets import AssetBuildError, build_lab_assets, write_starter_notebook
from mlrange.labs.registry import LabSpec, validate_labs


def selected_labs(slugs: list[str]) -> list[LabSpec]:
    """The valid labs named (all when none named); CommandError listing every problem."""
    specs, errors = validate_labs()
    if errors:
        raise CommandError("invalid lab packs:\n  " + "\n  ".join(errors))
    by_slug = {spec.slug: spec for spec in specs}
    unknown = [slug for slug in slugs if slug not in by_slug]
    if unknown:
        raise CommandError(f"unknown lab(s): {', '.join(unknown)}")
    return [by_slug[slug] for slug in slugs] if slugs else specs


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
