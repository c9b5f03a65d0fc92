"""Lets registered LMSs frame the pages an LTI launch opens (CSP frame-ancestors, X-Frame-Options)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

SESSION_FRAME_KEY = "lti_frame_ancestors"


class LtiEmbedMiddleware:
    """For a session an LTI launch started, the launching LMS's origins may frame every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        origins = session.get(SESSION_FRAME_KEY) if session is not None else None
        if origins is None:
            origins = getattr(response, "lti_frame_ancestors", None)
        if origins:
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
            response._csp_replace = {"frame-ancestors": list(origins)}  # type: ignore[attr-defined]
        return response
