"""Request latency by URL pattern: the outermost middleware, so it times the whole stack."""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from mlrange.ops import metrics


class RequestMetricsMiddleware:
    """Observes every request's duration under its URL pattern (``api/v1/submissions/<uuid:pk>/``),
    never its path, so ids and learner input never become label values."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.request_observe(
            route=_route(request),
            method=request.method or "",
            status_code=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


def _route(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is not None:
        return match.route or "/"  # the empty pattern is the home page
    if request.path_info.startswith(settings.STATIC_URL or "/static/"):
        return metrics.STATIC_ROUTE  # answered by WhiteNoise before URL resolution
    return metrics.UNMATCHED_ROUTE
