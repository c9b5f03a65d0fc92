"""pylti1p3's storage and cookies, set up for launches inside an LMS iframe.

The state cookie is SameSite=None; Secure whenever MLRange runs behind HTTPS or LTI_EMBED is on,
so a browser sends it back on the platform's cross-site POST to the launch URL. Launch data and
nonces live in the Django cache under unguessable keys, never behind a second session cookie the
browser might block.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.contrib.django.cookie import DjangoCookieService
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.deployment import Deployment

from mlrange.lti.middleware import mark_partitioned

STATE_COOKIE_PREFIX = "lti1p3"


class LaunchDataStorage(DjangoCacheDataStorage):  # type: ignore[misc]  # pylti1p3: untyped
    """Keys without a per-browser prefix: no extra cookie the iframe might not get."""

    def get_session_cookie_name(self) -> None:
        return None


class CookieService(DjangoCookieService):  # type: ignore[misc]  # pylti1p3: untyped
    """Sets pylti1p3's state cookie SameSite=None; Secure; Partitioned when the launch may be framed."""

    def update_response(self, response: HttpResponseBase) -> None:
        request = self._request
        cross_site = request.is_secure() or settings.LTI_EMBED
        for key, cookie in self._cookie_data_to_set.items():
            response.set_cookie(
                key,
                value=cookie["value"],
                max_age=cookie["exp"],
                secure=cross_site,
                httponly=True,
                samesite="None" if cross_site else "Lax",
                path="/",
            )
            if cross_site:
                mark_partitioned(response, key)


class ToolConfig(DjangoToolConfig):  # type: ignore[misc]  # django-lti: untyped
    """django-lti's lookups, except that an unknown or inactive deployment is refused.

    django-lti creates a row for a deployment id it has not seen (inactive); MLRange accepts
    only deployments an administrator registered, and creates nothing for a bad launch.
    """

    def _deployment(self, **lookups: Any) -> Deployment | None:
        from lti_tool.models import LtiDeployment

        deployment = LtiDeployment.objects.filter(
            registration__is_active=True, is_active=True, **lookups
        ).first()
        if deployment is None:
            return None
        self.deployment = deployment
        return Deployment().set_deployment_id(deployment.deployment_id)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        lookups: dict[str, Any] = {"registration__issuer": iss, "deployment_id": deployment_id}
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._deployment(**lookups)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        lookups: dict[str, Any] = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._deployment(**lookups)


def message_launch(request: HttpRequest, *, launch_id: str | None = None) -> DjangoMessageLaunch:
    """The platform's message for this request (not validated yet), or a stored launch by id."""
    lti_request = DjangoRequest(request, post_only=launch_id is None)
    storage = LaunchDataStorage()
    if launch_id is not None:
        return DjangoMessageLaunch.from_cache(
            launch_id, lti_request, ToolConfig(), launch_data_storage=storage
        )
    return DjangoMessageLaunch(
        lti_request, ToolConfig(), cookie_service=CookieService(lti_request), launch_data_storage=storage
    )
