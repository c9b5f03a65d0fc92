"""Dashboard page time at 10 and at 1,000 history items, cold (cache invalid) and warm (cached).

Run: `python -m bench.dashboard [--repeats N]`. It builds a throwaway SQLite database in a
temporary folder (MLRANGE_VAR_DIR and DATABASE_URL are set before Django starts), migrates,
seeds the catalog and two learners, then times GET /dashboard/ through the Django test
client. History items are quiz item responses (in attempts of ten) plus graded lab
submissions, 60/40. Prints a table (median, p95, queries) and the 1000/10 ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSKILLS = (
    "model-security",
    "data-security",
    "infrastructure-security",
    "privacy-preserving-ml",
    "threat-modeling",
)
LEVELS = ("beginner", "intermediate", "advanced", "expert")


def _setup_django(var_dir: str) -> None:
    os.environ["MLRANGE_VAR_DIR"] = var_dir
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "mlrange.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def _seed_catalog() -> None:
    from mlrange.catalog.models import Level, PathStage, RedFlag, SubSkill

    levels = [
        Level.objects.create(slug=slug, name=slug.title(), order=i, summary=slug)
        for i, slug in enumerate(LEVELS, start=1)
    ]
    subskills = [
        SubSkill.objects.create(
            slug=slug, name=slug.replace("-", " ").title(), order=i, description=slug, weight=20
        )
        for i, slug in enumerate(SUBSKILLS, start=1)
    ]
    for i, slug in enumerate(("foundations", "implementation", "advanced-practice"), start=1):
        PathStage.objects.create(
            slug=slug,
            order=i,
            title=slug.title(),
            level=levels[i - 1],
            summary=slug,
            deliverables=["A report.", "A notebook."],
        )
    RedFlag.objects.create(
        slug="no-input-validation-or-monitoring",
        order=1,
        subskill=subskills[2],
        text="Deploys models without input validation or monitoring for malicious inputs.",
    )


def _seed_learner(username: str, history_items: int) -> object:
    """A learner with `history_items` evidence rows: 60% quiz responses, 40% graded submissions."""
    from django.utils import timezone

    from mlrange.accounts.models import User
    from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz
    from mlrange.catalog.models import Level, SubSkill
    from mlrange.labs.models import Lab, Submission

    learner = User.objects.create_user(username=username, password="bench-password-123")  # noqa: S106 -- throwaway database
    subskills = list(SubSkill.objects.order_by("order"))
    levels = list(Level.objects.order_by("order"))
    items = list(Item.objects.all())
    if not items:
        items = [
            Item.objects.create(
                key=f"bench-{s.slug[:4]}-{i:03d}",
                subskill=s,
                level=levels[i % 4],
                type=Item.Type.SINGLE,
                stem="?",
                options=[],
                answer="a",
                explanation="-",
                irt_a=1.0 + (i % 3) / 5,
                irt_b=-1.5 + i / 10,
                initial_irt_a=1.0,
                initial_irt_b=0.0,
                references=[{"owasp": f"ML{1 + i % 10:02d}"}],
            )
            for s in subskills
            for i in range(30)
        ]
    quiz = Quiz.objects.get_or_create(
        slug="bench-practice", defaults={"kind": "practice", "title": "Practice"}
    )[0]
    labs = list(Lab.objects.all()) or [
        Lab.objects.create(
            slug=f"bench-lab-{i}",
            title=f"Bench lab {i}",
            summary="-",
            subskill=subskills[i % 5],
            level=levels[i % 4],
            atlas=["AML.T0043.000"],
            owasp=["ML01"],
        )
        for i in range(8)
    ]
    n_responses = history_items * 6 // 10
    n_submissions = history_items - n_responses
    start = timezone.now() - timedelta(days=60)
    made = 0
    attempt_index = 0
    while made < n_responses:
        at = start + timedelta(minutes=attempt_index * 30)
        attempt = Attempt.objects.create(
            learner=learner, quiz=quiz, status="submitted", seed=1, submitted_at=at
        )
        batch = min(10, n_responses - made)
        AttemptItem.objects.bulk_create(
            AttemptItem(
                attempt=attempt,
                item=items[(made + j) % len(items)],
                position=j + 1,
                score=float((made + j) % 3 != 0),
                answered_at=at - timedelta(seconds=batch - j),
            )
            for j in range(batch)
        )
        made += batch
        attempt_index += 1
    Submission.objects.bulk_create(
        Submission(
            learner=learner,
            lab=labs[i % len(labs)],
            mode="grade",
            cells=["pass"],
            status="passed" if i % 4 == 3 else "failed",
            score=100.0 if i % 4 == 3 else 50.0,
            passed=i % 4 == 3,
            finished_at=start + timedelta(minutes=15 + 30 * i),
            checks=[
                {"id": "a", "points": 50, "max_points": 50},
                {"id": "b", "points": 50 if i % 4 == 3 else 0, "max_points": 50},
            ],
        )
        for i in range(n_submissions)
    )
    return learner


def _timed_get(client: object) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get("/dashboard/")  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed, len(captured.captured_queries)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed requests per case (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlrange-bench-") as var_dir:
        _setup_django(var_dir)
        from django.test import Client

        from mlrange.progress.models import ProgressSnapshot

        _seed_catalog()
        sizes = (10, 1000)
        clients = {}
        learners = {}
        for size in sizes:
            learners[size] = _seed_learner(f"learner{size}", size)
            clients[size] = Client()
            clients[size].force_login(learners[size])  # type: ignore[arg-type]
            clients[size].get("/dashboard/")  # warm-up: templates, URL resolvers, ATLAS names
        timings: dict[tuple[int, str], list[float]] = {(n, k): [] for n in sizes for k in ("cold", "warm")}
        queries: dict[tuple[int, str], int] = {}
        # Interleaved, so that drift in a shared machine's load hits every case alike.
        for _ in range(args.repeats):
            for size in sizes:
                ProgressSnapshot.objects.filter(learner=learners[size]).delete()
                elapsed, queries[(size, "cold")] = _timed_get(clients[size])
                timings[(size, "cold")].append(elapsed)
                elapsed, queries[(size, "warm")] = _timed_get(clients[size])
                timings[(size, "warm")].append(elapsed)
        results = {
            key: (statistics.median(values), _p95(values), queries[key]) for key, values in timings.items()
        }

        print(
            f"Dashboard page (GET /dashboard/, Django test client, SQLite), {args.repeats} requests per case"
        )
        print(f"{'history items':>13} | {'cache':>5} | {'median ms':>9} | {'p95 ms':>7} | {'queries':>7}")
        print("-" * 55)
        for (size, kind), (median, p95, queries) in sorted(results.items()):
            print(f"{size:>13} | {kind:>5} | {1000 * median:>9.1f} | {1000 * p95:>7.1f} | {queries:>7}")
        for kind in ("warm", "cold"):
            ratio = results[(1000, kind)][0] / results[(10, kind)][0]
            print(f"ratio 1000/10 ({kind}, median): {ratio:.2f}")


if __name__ == "__main__":
    main()
