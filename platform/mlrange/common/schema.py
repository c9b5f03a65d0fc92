"""The OpenAPI schema's one rule for error responses: each operation lists the 4xx it can give.

drf-spectacular documents what a view declares; the errors come from machinery around it
(authentication, permissions, throttles, URL lookups, body parsing), so they are added here,
from that machinery, for every operation alike.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication


class ErrorOutput(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    retry_after_seconds = serializers.IntegerField(
        required=False, help_text="429 only: when to try again (also the Retry-After header)."
    )

    class Meta:
        ref_name = "Error"


_BODY_METHODS = {"POST", "PUT", "PATCH"}


class MLRangeAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, description in self.error_responses():
            if code not in responses:
                error = OpenApiResponse(ErrorOutput, description=description)
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]  # untyped upstream
                    error, code, direction=direction
                )
        return responses

    def error_responses(self) -> list[tuple[str, str]]:
        """(status, description) of the errors this operation can answer with."""
        view = self.view
        errors: list[tuple[str, str]] = []
        has_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        if self.method in _BODY_METHODS or has_query:
            errors.append(("400", "Invalid input: the body says what to fix, field by field."))
        if view.get_authenticators():
            errors.append(("401", "Missing, invalid or expired credentials (`Authorization: Token <key>`)."))
        if self.method in _BODY_METHODS and any(
            isinstance(authenticator, SessionAuthentication) for authenticator in view.get_authenticators()
        ):
            errors.append(("403", "Logged in by session cookie without a valid CSRF token."))
        if "{" in self.path:
            errors.append(("404", "No such object, or not yours."))
        if self.method in _BODY_METHODS:
            errors.append(("413", "The request body is over DATA_UPLOAD_MAX_MEMORY_SIZE."))
            errors.append(("415", "A Content-Type this operation does not parse, or a malformed body."))
        if view.get_throttles():
            errors.append(("429", "Throttled or rate-limited: see `retry_after_seconds` and Retry-After."))
        return errors
