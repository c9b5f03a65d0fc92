"""`{% lab_hint_state lab as hint_state %}`: the hints panel reads the learner's hints itself, so
any page that shows a lab can include `labs/_hints.html` without its view knowing about hints."""

from typing import Any

from django import template

from mlrange.accounts.selectors import user_from_request
from mlrange.labs import hints
from mlrange.labs.models import Lab

register = template.Library()


@register.simple_tag(takes_context=True)
def lab_hint_state(context: dict[str, Any], lab: Lab) -> hints.HintState:
    """The current learner's hints of ``lab``; for a visitor, the count alone (nothing revealed)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return hints.HintState(total=len(hints.lab_hints(lab=lab)), revealed=())
    return hints.hint_state_for_learner(learner=user_from_request(request), lab=lab)
