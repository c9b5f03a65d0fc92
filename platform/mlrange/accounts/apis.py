"""Token authentication for API clients."""

from typing import Any

from axes.helpers import get_cool_off
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.accounts.services import token_issue
from mlrange.common.exceptions import RateLimitedError


class TokenObtainInput(AuthTokenSerializer):
    """Username and password, bounded before anything looks them up: a failed login is recorded
    (django-axes) with its username in a 255-character column, so an overlong one was a 500 on
    PostgreSQL instead of a 400."""

    username = serializers.CharField(label="Username", write_only=True, max_length=150)
    password = serializers.CharField(
        label="Password",
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
        max_length=4096,
    )


class TokenObtainApi(ObtainAuthToken):
    """POST username and password, get the API token to send as `Authorization: Token <key>`.

    Guarded twice: the `auth` throttle scope (requests per client address) and django-axes
    (failed logins per username and address, shared with the login page and the admin).
    """

    throttle_classes = APIView.throttle_classes  # the API's defaults, which DRF's view turns off
    throttle_scope = "auth"
    serializer_class = TokenObtainInput

    @extend_schema(
        summary="Exchange username and password for an API token",
        tags=["auth"],
        responses={
            200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password, or a field missing."),
            429: OpenApiResponse(
                description="Too many attempts from this address, or too many failed logins: "
                "`detail` and `retry_after_seconds` say when to try again."
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes flags the request it was handed (this DRF request) when it refused it.
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                raise RateLimitedError(
                    "Too many failed logins: this account is locked for this address.",
                    retry_after_s=int(cool_off.total_seconds()) if cool_off else 0,
                )
            raise serializers.ValidationError(serializer.errors)
        token = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key})
