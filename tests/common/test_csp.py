"""A Content Security Policy without inline script, and pages that need none."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "platform" / "mlrange"
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_pages_send_a_policy_without_unsafe_inline_or_eval(client):
    response = client.get("/")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_api_docs_page_has_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert not INLINE_SCRIPT.search(response.content.decode())


@pytest.mark.parametrize("path", sorted(p for p in TEMPLATES.rglob("templates/**/*.html")), ids=str)
def test_templates_have_no_inline_script_style_or_handler(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it into a static .js file"
    assert not INLINE_HANDLER.search(text), "inline event handler: attach it from a static .js file"
    assert "style=" not in text, "inline style attribute: use a class in a static .css file"
    assert "<style" not in text, "inline <style>: use a static .css file"
