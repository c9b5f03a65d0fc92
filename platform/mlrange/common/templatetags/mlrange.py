"""Template filters used across apps."""

import markdown as md
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter(name="markdown")
def render_markdown(text: str) -> SafeString:
    """Render trusted curriculum Markdown (never learner input) to HTML."""
    html = md.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    return mark_safe(html)  # noqa: S308 -- curriculum files are reviewed content, not user input


@register.filter(name="get_item")
def get_item(mapping: object, key: str) -> object:
    """`{{ d|get_item:"image/png" }}`: dictionary lookup for keys that are not identifiers."""
    if isinstance(mapping, dict):
        return mapping.get(key, "")
    return ""
