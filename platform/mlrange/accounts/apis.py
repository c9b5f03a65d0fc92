"""Token authentication for API clients."""

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle


class TokenObtainApi(ObtainAuthToken):
    """POST username and password, get the API token to send as `Authorization: Token <key>`."""

    throttle_classes = [AnonRateThrottle]

    @extend_schema(summary="Exchange username and password for an API token", tags=["auth"])
    def post(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]  # DRF's signature
        return super().post(request, *args, **kwargs)
