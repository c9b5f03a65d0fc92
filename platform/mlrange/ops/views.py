"""``/metrics`` for Prometheus: off unless METRICS_ENABLED, behind a bearer token when
METRICS_TOKEN is set. A plain Django view, outside the versioned API and its schema."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from mlrange.ops import exposition
from mlrange.ops.collectors import DatabaseCollector


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    problem = exposition.bearer_token_problem(
        authorization=request.headers.get("Authorization"), token=settings.METRICS_TOKEN
    )
    if problem == 401:
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if problem == 403:
        return HttpResponse("Wrong token.\n", status=403, content_type="text/plain")
    body, content_type = exposition.render(
        collectors=[*exposition.process_collectors(), DatabaseCollector()],
        accept=request.headers.get("Accept"),
    )
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
