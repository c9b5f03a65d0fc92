"""Domain errors and the one place that maps them to HTTP responses."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A rule of the domain was broken by the caller: becomes a 4xx with this message."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class TooManyInFlightError(ApplicationError):
    """The caller already has as many runs in progress as allowed."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS


class RateLimitedError(ApplicationError):
    """The caller used up an allowance; ``retry_after_s`` says when the next one frees up."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, extra={"retry_after_seconds": retry_after_s})
        self.retry_after_s = retry_after_s


class ServiceUnavailableError(ApplicationError):
    """A part the request needs (the sandbox, say) is not available on this host."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def body_too_large_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is larger than the limit of {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain and Django errors into DRF responses with a `detail` message."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": body_too_large_detail()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApplicationError):
        response = Response({"detail": exc.message, **exc.extra}, status=exc.status_code)
        if isinstance(exc, RateLimitedError):
            response["Retry-After"] = str(exc.retry_after_s)
        return response
    drf_response = exception_handler(exc, context)
    wait = getattr(exc, "wait", None)  # set by DRF's Throttled; its stubs do not declare it
    if isinstance(exc, exceptions.Throttled) and drf_response is not None and wait is not None:
        # DRF sets Retry-After; the body says it too, as RateLimitedError's do.
        drf_response.data["retry_after_seconds"] = wait
    return drf_response
