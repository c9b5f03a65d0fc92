"""Django's error views, answering JSON (`{"detail": ...}`) under /api/ and HTML elsewhere.

DRF's exception handler covers errors raised inside API views; these cover the rest: an
unknown /api/ path (404), an exception DRF does not handle (500), and a request body over
DATA_UPLOAD_MAX_MEMORY_SIZE read outside a view (413 rather than Django's 400).
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from mlrange.common.exceptions import body_too_large_detail


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    too_large = isinstance(exception, RequestDataTooBig)
    if is_api_request(request):
        if too_large:
            return JsonResponse({"detail": body_too_large_detail()}, status=413)
        return JsonResponse({"detail": "Bad request."}, status=400)
    response = defaults.bad_request(request, exception)
    if too_large:
        response.status_code = 413
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "Server error: the request failed on our side."}, status=500)
    return defaults.server_error(request)
