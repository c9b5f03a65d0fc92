"""Prometheus instruments that processes update as things happen, and the calls that update them.

Counters and histograms live in the process that observes the event: the web process for
requests, the Celery pool process for a finished submission. Both servers run several
processes (gunicorn workers, Celery's prefork pool), so with ``PROMETHEUS_MULTIPROC_DIR`` set
before start, prometheus-client's multiprocess mode keeps each value in a per-process file in
that folder and a scrape adds them up (``mlrange.ops.exposition``). Without it, values stay in
the process (runserver, tests, a solo pool). What the database already knows (queue depth,
worker heartbeats, ready kernels) is read at scrape time instead (``mlrange.ops.collectors``),
so no gauge here needs a live process behind it.

Labels are bounded: a URL pattern (never a raw path), a lab slug, a status from a fixed set.
"""

from prometheus_client import Counter, Histogram

REQUEST_DURATION = Histogram(
    "mlrange_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

SUBMISSIONS_FINISHED = Counter(
    "mlrange_submissions_finished",
    "Submissions that reached a final status, by lab, mode (run or grade) and status.",
    ["lab", "mode", "status"],
)

_RUN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

EXECUTION_DURATION = Histogram(
    "mlrange_submission_execution_seconds",
    "Time the learner's code ran in its sandboxed kernel, per finished submission.",
    ["lab"],
    buckets=_RUN_BUCKETS,
)

GRADING_DURATION = Histogram(
    "mlrange_submission_grading_seconds",
    "Time the trusted grader took, per graded submission.",
    ["lab"],
    buckets=_RUN_BUCKETS,
)

UNMATCHED_ROUTE = "<unmatched>"
STATIC_ROUTE = "<static>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_observe(*, route: str, method: str, status_code: int, seconds: float) -> None:
    """Record one answered request. ``route`` is a URL pattern or one of the placeholders above;
    a method outside the usual ones counts as ``other`` (clients choose it: labels stay bounded)."""
    REQUEST_DURATION.labels(
        route=route,
        method=method if method in _METHODS else "other",
        status=f"{status_code // 100}xx",
    ).observe(seconds)


def submission_finished(
    *,
    lab: str,
    mode: str,
    status: str,
    execution_seconds: float | None = None,
    grading_seconds: float | None = None,
) -> None:
    """Record a submission that was just finalised. Call once per finalisation, after the row
    changed (a fenced update that matched), so that a duplicate delivery counts nothing."""
    SUBMISSIONS_FINISHED.labels(lab=lab, mode=mode, status=status).inc()
    if execution_seconds is not None:
        EXECUTION_DURATION.labels(lab=lab).observe(execution_seconds)
    if grading_seconds is not None:
        GRADING_DURATION.labels(lab=lab).observe(grading_seconds)
