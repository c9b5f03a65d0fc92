"""The login page's "Sign in with <organisation>" button and the logout form's target."""

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from mlrange.sso.config import sso_config
from mlrange.sso.views import SESSION_ID_TOKEN

register = template.Library()


@register.inclusion_tag("sso/button.html")
def sso_button(next_url: str = "") -> dict[str, object]:
    """Nothing while SSO is off; otherwise a link that starts the sign-in, carrying `next`."""
    config = sso_config()
    if config is None:
        return {"sso_on": False}
    url = reverse("sso:login")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return {"sso_on": True, "display_name": config.display_name, "url": url}


@register.simple_tag(takes_context=True)
def logout_action(context: template.Context) -> str:
    """Where the Log out form posts: SSO's logout (which also ends the provider's session) for an
    SSO sign-in when SSO_LOGOUT_AT_PROVIDER is on, else the plain logout."""
    request: HttpRequest | None = context.get("request")
    config = sso_config()
    if config and config.logout_at_provider and request is not None and request.session.get(SESSION_ID_TOKEN):
        return reverse("sso:logout")
    return reverse("accounts:logout")
