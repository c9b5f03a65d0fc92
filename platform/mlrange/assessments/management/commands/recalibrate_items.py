"""manage.py recalibrate_items: re-estimate item parameters from responses; print statistics."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from mlrange.assessments.calibration import WEAK_POINT_BISERIAL, items_recalibrate


class Command(BaseCommand):
    help = (
        "Re-estimate 2PL a and b of items with at least --min-responses answers (abilities "
        "from learners' attempts held fixed) and print count, proportion correct and "
        f"point-biserial per item; items below {WEAK_POINT_BISERIAL} are flagged weak."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--min-responses", type=int, default=30)
        parser.add_argument("--b-only", action="store_true", help="Keep a; re-estimate b only.")
        parser.add_argument("--dry-run", action="store_true", help="Print, save nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = items_recalibrate(
            min_responses=options["min_responses"],
            fit_a=not options["b_only"],
            dry_run=options["dry_run"],
        )
        self.stdout.write(f"{'item':<12} {'n':>5} {'p':>6} {'r_pb':>6} {'a':>12} {'b':>14}  flag")
        for s in stats:
            rpb = f"{s.point_biserial:6.2f}" if s.point_biserial is not None else "     -"
            a = f"{s.new_a:.2f}" if s.new_a is not None else "-"
            b = f"{s.new_b:+.2f}" if s.new_b is not None else "-"
            self.stdout.write(
                f"{s.key:<12} {s.count:>5} {s.p_correct:6.2f} {rpb} "
                f"{s.old_a:5.2f}->{a:<5} {s.old_b:+6.2f}->{b:<6}  {'WEAK' if s.is_weak else ''}"
            )
        recalibrated = sum(1 for s in stats if s.new_b is not None)
        weak = sum(1 for s in stats if s.is_weak)
        verb = "would be recalibrated" if options["dry_run"] else "recalibrated"
        self.stdout.write(
            self.style.SUCCESS(f"{len(stats)} items with responses, {recalibrated} {verb}, {weak} weak.")
        )
