"""manage.py check_labs [slug ...]: prove every lab pack works end to end, through the sandbox.

Validates the manifests, builds the assets, checks the committed starter notebooks, then runs
every listed solution through ``runner.execute_lab``, the very function the worker runs for a
submission (same pools, per-lab limits, grader sandbox and report validation), for several
grader seeds (each seed also picks the learner variant). Prints one row per run;
exits 1 when any outcome differs from the manifest's expectation or grading is too slow.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mlrange.labs.assets import build_lab_assets, notebook_is_current
from mlrange.labs.management.commands.build_lab_assets import selected_labs
from mlrange.labs.registry import LabSolution, LabSpec, lab_variant
from mlrange.labs.scoring import awarded_tiers

DEFAULT_SEEDS = (1, 2, 3)
_ROW = "{:<24} {:<16} {:>5} {:>6} {:>6}  {:<26} {:>7}  {}"


def passed_tiers(spec: LabSpec, report: dict[str, Any]) -> tuple[str, ...]:
    """Ids of the lab's tiers awarded in a scored report (the platform's own rule)."""
    return awarded_tiers(report.get("checks", []), spec.tiers)


def outcome_problems(
    spec: LabSpec, solution: LabSolution, report: dict[str, Any], grading_seconds: float
) -> list[str]:
    """What differs from the manifest's expectation (empty when all is as expected)."""
    problems = []
    score = report.get("score")
    if not isinstance(score, int | float) or not 0 <= score <= 100:
        problems.append(f"score {score!r} is not a number in 0..100")
    if report.get("passed") is not solution.expect.passed:
        problems.append(f"passed={report.get('passed')!r}, expected {solution.expect.passed}")
    tiers = passed_tiers(spec, report)
    if sorted(tiers) != sorted(solution.expect.tiers):
        problems.append(f"tiers {list(tiers)}, expected {list(solution.expect.tiers)}")
    for check in report.get("checks", []):
        if not {"id", "title", "passed", "points", "max_points", "feedback"} <= set(check):
            problems.append(f"check {check.get('id')!r} misses fields")
    if grading_seconds > spec.limits.grader_timeout_s:
        problems.append(
            f"grading took {grading_seconds:.1f} s, over the budget of {spec.limits.grader_timeout_s:g} s"
        )
    return problems


def _metrics_text(report: dict[str, Any]) -> str:
    metrics = report.get("metrics", {})
    return " ".join(f"{name}={value:.3f}" for name, value in sorted(metrics.items()))


class Command(BaseCommand):
    help = "Validate lab packs and grade every listed solution through the real sandbox."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", help="labs to check (default: all)")
        parser.add_argument(
            "--seeds",
            default=",".join(str(s) for s in DEFAULT_SEEDS),
            help="comma-separated learner/grader seeds (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from mlrange.labs import runner
        from mlrange.sandbox import SandboxError

        seeds = [int(s) for s in options["seeds"].split(",") if s.strip()]
        specs = selected_labs(options["slugs"])
        failures: list[str] = []
        for spec in specs:
            build = build_lab_assets(spec)
            state = f"built in {build.seconds:.1f} s" if build.built else "up to date"
            self.stdout.write(f"{spec.slug}: manifest valid, assets {state}")
            if not notebook_is_current(spec):
                failures.append(
                    f"{spec.slug}: {spec.files.notebook.name} differs from "
                    f"{spec.files.starter.name} (run `manage.py build_lab_assets --notebooks`)"
                )
        problem = runner.sandbox_problem()
        if problem is not None:
            raise CommandError(f"the sandbox cannot run here: {problem}")
        try:
            for kernel in sorted({spec.kernel for spec in specs}):
                runner.get_pool(kernel)
        except SandboxError as exc:
            raise CommandError(f"the sandbox cannot run here: {exc}") from exc
        self.stdout.write(f"isolation: {runner.isolation_mode()['mode']}")
        self.stdout.write(
            _ROW.format("lab", "solution", "seed", "score", "passed", "tiers", "grade s", "metrics")
        )
        try:
            for spec in specs:
                for solution in spec.solutions:
                    code = solution.file.read_text(encoding="utf-8")
                    for seed in seeds:
                        # The worker's own path: same pool, limits, grader and report validation.
                        outcome = runner.execute_lab(
                            spec, [code], variant=lab_variant(spec, seed), grader_seed=seed, grade=True
                        )
                        report = {
                            "score": outcome.score,
                            "passed": outcome.passed,
                            "checks": outcome.checks,
                            "metrics": outcome.metrics,
                        }
                        seconds = outcome.grading_seconds or 0.0
                        found = (
                            [f"{outcome.status}: {outcome.message}"]
                            if outcome.score is None
                            else outcome_problems(spec, solution, report, seconds)
                        )
                        self.stdout.write(
                            _ROW.format(
                                spec.slug,
                                solution.name,
                                seed,
                                f"{outcome.score if outcome.score is not None else float('nan'):.1f}",
                                str(outcome.passed),
                                ",".join(passed_tiers(spec, report)) or "-",
                                f"{seconds:.2f}",
                                _metrics_text(report),
                            )
                        )
                        failures.extend(f"{spec.slug} {solution.name} seed {seed}: {p}" for p in found)
        finally:
            runner.shutdown_pool()
        if failures:
            raise CommandError("lab checks failed:\n  " + "\n  ".join(failures))
        self.stdout.write(self.style.SUCCESS("all lab checks passed"))
