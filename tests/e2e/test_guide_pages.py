"""Every guide page renders in a real browser, at laptop and phone widths, without overflow."""

import pytest
from django.core.management import call_command

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import has_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("/", "AI/ML Security"),
    ("/levels/", "Expert"),
    ("/path/", "Foundations and Core Concepts"),
    ("/skills/model-security/", "Model Security and Robustness"),
    ("/misconceptions/", "Traditional cybersecurity"),
    ("/use-cases/", "Fraud Detection"),
    ("/projects/", "Adversarially Robust Image Classifier"),
    ("/resources/", "MITRE ATLAS"),
    ("/faq/", "traditional cybersecurity"),
    ("/careers/", "Keywords"),
    ("/quizzes/", "Quizzes"),
    ("/labs/", "Craft adversarial examples"),
]


@pytest.fixture
def content(db):
    call_command("load_curriculum", verbosity=0)


def test_guide_pages_render_with_their_content(live_server, page, phone_page, content):
    for path, text in PAGES:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert text.lower() in page.inner_text("main").lower(), path
        css = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        assert css != "rgba(0, 0, 0, 0)", f"{path}: stylesheet not applied"
        phone_page.goto(live_server.url + path)
        assert has_no_horizontal_overflow(phone_page), f"{path} overflows a phone screen"
    page.goto(live_server.url + "/")
    screenshot(page, "guide-home-laptop")
    phone_page.goto(live_server.url + "/")
    screenshot(phone_page, "guide-home-phone")


def test_skip_link_and_keyboard_navigation(live_server, page, content):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_api_docs_load_without_any_external_request(live_server, page):
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            external.append(r.url)
            if not r.url.startswith(live_server.url) and not r.url.startswith("data:")
            else None
        ),
    )
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    assert "MLRange API" in page.inner_text(".swagger-ui .info")
    assert external == []
