"""Rendering a scrape: the processes' own instruments (one process, or every process that
shares ``PROMETHEUS_MULTIPROC_DIR``), plus, on the web, what the database knows.

Two places answer Prometheus:
- the web's ``/metrics`` (``mlrange.ops.views``): requests, queue depth, worker heartbeats and
  ready kernels, and everything recorded by processes sharing its multiprocess folder (with
  ``make run`` the worker shares it, so one target shows all);
- a Celery worker started with ``METRICS_WORKER_PORT``: a small HTTP server in the worker's main
  process serving what its pool processes recorded (submissions, run and grading durations) in
  its own multiprocess folder; for workers on other machines than the web.
"""

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Scrape(Collector):
    """Several collectors read in turn, without registering anything globally."""

    def __init__(self, collectors: Iterable[Any]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Any]:
        for collector in self.collectors:
            yield from collector.collect()


def process_collectors() -> list[Any]:
    """The instruments of this process, or of every process writing to the multiprocess folder
    (read from the environment at each scrape, as prometheus-client does)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call] # untyped upstream
        return [registry]
    return [REGISTRY]


def render(*, collectors: Iterable[Any], accept: str | None) -> tuple[bytes, str]:
    """The exposition body and its content type (OpenMetrics when the scraper asks for it)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(_Scrape(collectors)), content_type


def bearer_token_problem(*, authorization: str | None, token: str) -> int | None:
    """None when the request may read metrics; else the status to answer: 401 without a bearer
    token, 403 with a wrong one. An empty ``token`` means no token is required."""
    if not token:
        return None
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 403
    return None


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the stdlib's signature
        """Scrapes every few seconds are not worth a log line each."""


def worker_exporter_start(*, addr: str, port: int, token: str) -> WSGIServer:
    """Serve this worker's instruments (all its pool processes, through the multiprocess folder)
    at http://addr:port/metrics from a daemon thread of the worker's main process."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        problem = bearer_token_problem(authorization=environ.get("HTTP_AUTHORIZATION"), token=token)
        if problem == 401:
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
            )
            return [b"a bearer token is required\n"]
        if problem == 403:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"wrong token\n"]
        body, content_type = render(collectors=process_collectors(), accept=environ.get("HTTP_ACCEPT"))
        start_response("200 OK", [("Content-Type", content_type), ("Cache-Control", "no-store")])
        return [body]

    server = make_server(addr, port, app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="mlrange-metrics", daemon=True).start()
    logger.info("worker metrics at http://%s:%d/metrics", addr, server.server_port)
    return server
