"""LTI endpoints: OIDC login initiation, launch, deep-linking picker, JWKS, Canvas configuration.

The platform reaches these from another site (often inside an iframe), so they are CSRF-exempt:
each request is authenticated by what it carries (a signed id_token and a state cookie, or an
unguessable launch id), never by a session cookie.
"""

from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key
from pylti1p3.contrib.django import DjangoOIDCLogin
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.exception import LtiException, OIDCException

from mlrange.accounts.models import User
from mlrange.common.exceptions import ApplicationError
from mlrange.lti import services
from mlrange.lti.middleware import SESSION_FRAME_KEY
from mlrange.lti.models import LtiAccount
from mlrange.lti.storage import STATE_COOKIE_PREFIX, CookieService, LaunchDataStorage, ToolConfig
from mlrange.lti.tasks import roster_sync_task

LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id")
LOGIN_PARAMS_TTL = 600


def _framed(response: HttpResponse, request: HttpRequest | None = None) -> HttpResponse:
    response.lti_frame_ancestors = services.frame_ancestors(request=request)  # type: ignore[attr-defined]
    return response


def _error(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return _framed(render(request, "lti/error.html", {"message": message}, status=status), request)


@csrf_exempt
@xframe_options_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest) -> HttpResponse:
    """Step 1 of an LTI launch: remember state and nonce, send the browser to the platform."""
    params = request.POST if request.method == "POST" else request.GET
    missing = [name for name in ("iss", "login_hint", "target_link_uri") if not params.get(name)]
    if missing:
        return _error(
            request, f"The LMS did not send {', '.join(missing)}: start the launch again from the LMS."
        )
    lti_request = DjangoRequest(request)
    oidc = DjangoOIDCLogin(
        lti_request,
        ToolConfig(),
        cookie_service=CookieService(lti_request),
        launch_data_storage=LaunchDataStorage(),
    )
    try:
        response: HttpResponse = oidc.disable_check_cookies().redirect(params["target_link_uri"])
    except (LtiException, OIDCException) as error:
        return _error(request, f"This launch was refused: {error}.")
    state = urlsplit(response["Location"]).query
    state_value = dict(part.split("=", 1) for part in state.split("&") if "=" in part).get("state", "")
    if state_value:
        # The new-window link on the launch page repeats this login in a first-party window.
        cache.set(
            f"lti-login-{state_value}",
            {name: params[name] for name in LOGIN_PARAMS if params.get(name)},
            LOGIN_PARAMS_TTL,
        )
    return response


@csrf_exempt
@xframe_options_exempt
@never_cache
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """Step 2: the platform's signed id_token. Logs the LMS user in and opens what the link names."""
    state = request.POST.get("state", "")
    if state and f"{STATE_COOKIE_PREFIX}-{state}" not in request.COOKIES:
        login_params = cache.get(f"lti-login-{state}")
        if login_params is not None:
            retry = reverse("lti:login") + "?" + urlencode({**login_params, "lti1p3_new_window": "1"})
            return _framed(render(request, "lti/new_window.html", {"retry_url": retry}), request)
    try:
        result = services.launch_accept(request=request)
    except ApplicationError as error:
        return _error(request, error.message)
    login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_FRAME_KEY] = services.frame_ancestors(request=request, launch=result.launch)
    if result.course is not None and result.is_instructor and result.course.context.memberships_url:
        course_id = result.course.pk
        roster_sync_task.delay(course_id=course_id)
    if result.launch.is_deep_link_launch:
        return _framed(
            render(
                request,
                "lti/deep_link.html",
                {"launch_id": result.launch.get_launch_id(), "choices": services.deep_link_choices()},
            )
        )
    return HttpResponseRedirect(services.destination_url(result.destination))


@csrf_exempt
@xframe_options_exempt
@never_cache
@require_POST
def deep_link_submit(request: HttpRequest) -> HttpResponse:
    """The instructor's picks go back to the LMS as a signed deep-linking response."""
    launch_id = request.POST.get("launch_id", "")
    picks = request.POST.getlist("pick")
    if not picks:
        context = {
            "launch_id": launch_id,
            "choices": services.deep_link_choices(),
            "error": "Pick at least one.",
        }
        return _framed(render(request, "lti/deep_link.html", context, status=400))
    try:
        jwt, return_url = services.deep_link_response(request=request, launch_id=launch_id, picks=picks)
    except ApplicationError as error:
        return _error(request, error.message)
    response = render(request, "lti/deep_link_return.html", {"jwt": jwt, "return_url": return_url})
    parts = urlsplit(return_url)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return _framed(response)


@login_required
@require_http_methods(["GET", "POST"])
def account_link(request: HttpRequest) -> HttpResponse:
    """Sign in once with an existing MLRange account: later LMS launches use that account."""
    user = cast(User, request.user)  # login_required
    is_lti_made = LtiAccount.objects.filter(user=user).exists() and not user.has_usable_password()
    context: dict[str, Any] = {"is_lti_made": is_lti_made}
    if request.method == "POST" and is_lti_made:
        username = request.POST.get("username", "").strip()[:150]
        existing = authenticate(request, username=username, password=request.POST.get("password", ""))
        if not isinstance(existing, User):
            context["error"] = "That username and password do not match an MLRange account."
            return render(request, "lti/link.html", context, status=400)
        try:
            moved = services.account_link(lti_made=user, existing=existing)
        except ApplicationError as error:
            context["error"] = error.message
            return render(request, "lti/link.html", context, status=400)
        origins = request.session.get(SESSION_FRAME_KEY) or services.frame_ancestors(request=request)
        login(request, existing, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_FRAME_KEY] = origins
        context.update(linked=existing, moved=moved, is_lti_made=False)
    return render(request, "lti/link.html", context)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys (active ones). Never a private key."""
    keys: dict[str, Any] = Key.objects.as_jwks()
    return JsonResponse(keys)


@require_GET
def canvas_config(request: HttpRequest) -> JsonResponse:
    """Canvas's JSON configuration for a Developer Key ("Paste JSON" or "Enter URL")."""
    url = request.build_absolute_uri
    host = request.get_host().split(":")[0]
    launch_url = url(reverse("lti:launch"))
    placement = {"text": "MLRange", "message_type": "LtiDeepLinkingRequest", "target_link_uri": launch_url}
    return JsonResponse(
        {
            "title": "MLRange",
            "description": "Hands-on AI/ML security labs, quizzes and progress.",
            "oidc_initiation_url": url(reverse("lti:login")),
            "target_link_uri": launch_url,
            "public_jwk_url": url(reverse("lti:jwks")),
            "scopes": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            ],
            "extensions": [
                {
                    "domain": host,
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": {
                        "placements": [
                            {**placement, "placement": "assignment_selection"},
                            {**placement, "placement": "link_selection"},
                            {**placement, "placement": "editor_button"},
                        ]
                    },
                }
            ],
        }
    )
