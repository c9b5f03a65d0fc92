"""Makes MLRange work inside an LMS iframe: framing allowed for registered LMSs, CHIPS cookies.

Browsers that block third-party cookies (Chrome's incognito, Chrome with the setting on) still
keep a cookie marked `Partitioned` (CHIPS) for a framed site, in a jar of its own per top-level
site; Firefox partitions every third-party cookie anyway. With LTI_EMBED on, the session and
CSRF cookies are SameSite=None; Secure; Partitioned, so a launch inside an LMS iframe stays
signed in there. Where a browser refuses even those, the launch offers a new window.
"""

from collections.abc import Callable
from http import cookies

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

SESSION_FRAME_KEY = "lti_frame_ancestors"

# Python's cookie writer (before 3.14) knows no `Partitioned` attribute: teach it the flag.
cookies.Morsel._reserved.setdefault("partitioned", "Partitioned")  # type: ignore[attr-defined]
cookies.Morsel._flags.add("partitioned")  # type: ignore[attr-defined]


def mark_partitioned(response: HttpResponseBase, name: str) -> None:
    """Add `Partitioned` to a cookie the response sets (only SameSite=None; Secure ones may have it)."""
    morsel = response.cookies.get(name)
    if morsel is not None and morsel["secure"] and str(morsel["samesite"]).lower() == "none":
        morsel["partitioned"] = True


class LtiEmbedMiddleware:
    """Placed just before SessionMiddleware: sees its cookie, and runs before CSP's on the way out.

    For a session an LTI launch started (or a response an LTI view marked), the registered LMS
    origins may frame the page: CSP frame-ancestors lists them and X-Frame-Options is dropped.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        origins = set(getattr(response, "lti_frame_ancestors", None) or ())
        if session is not None:
            origins.update(session.get(SESSION_FRAME_KEY) or ())
        if origins:
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
            response._csp_replace = {"frame-ancestors": sorted(origins)}  # type: ignore[attr-defined]
        if settings.LTI_EMBED:
            mark_partitioned(response, settings.SESSION_COOKIE_NAME)
            mark_partitioned(response, settings.CSRF_COOKIE_NAME)
        return response
