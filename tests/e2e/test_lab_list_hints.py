"""In a real browser, by keyboard: the lab list grouped and filtered, a hint taken on a lab page
(htmx swaps the panel in and focuses the new hint), and the list then marks the lab attempted."""

import pytest
from django.core.management import call_command

from mlrange.accounts.models import User
from mlrange.labs.models import Lab, Submission
from tests.e2e.conftest import SCREENSHOTS, screenshot
from tests.e2e.helpers import has_no_horizontal_overflow, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def content(db):
    call_command("load_curriculum", verbosity=0)


def test_lab_list_filters_by_keyboard_and_a_hint_is_taken_in_place(live_server, page, content):
    base = live_server.url
    sign_up(page, base, "hint-taker")
    page.goto(f"{base}/labs/")
    assert page.locator("section.lab-group").count() == 5
    assert page.locator(".lab-card").count() == Lab.objects.filter(is_active=True).count()
    bullet = page.eval_on_selector(".lab-grid", "el => getComputedStyle(el).listStyleType")
    assert bullet == "none"
    assert page.locator(".lab-status", has_text="Not started").count() == page.locator(".lab-card").count()
    screenshot(page, "lab-list")

    # Filter with the keyboard only: focus the sub-skill select, pick, tab to the button, Enter.
    page.focus("#filter-subskill")
    page.select_option("#filter-subskill", "privacy-preserving-ml")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Show labs"
    page.keyboard.press("Enter")
    page.wait_for_url("**/labs/?subskill=privacy-preserving-ml&level=")
    titles = page.locator(".lab-card h3").all_inner_texts()
    assert titles[0] == "Implement the Laplace mechanism"  # the beginner lab opens the path
    assert page.locator("section.lab-group").count() == 1

    # Take a hint by keyboard: htmx swaps the panel in place and focuses the new hint.
    page.goto(f"{base}/labs/laplace-mechanism/")
    button = page.locator("#hints button", has_text="Show hint 1 of 3")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#hint-1")
    assert page.url.endswith("/labs/laplace-mechanism/")  # no page load: the panel was swapped
    assert page.evaluate("document.activeElement.id") == "hint-1"
    assert page.locator("#hints button", has_text="Show hint 2 of 3").count() == 1
    page.locator("#hints").scroll_into_view_if_needed()
    page.locator("#hints").screenshot(path=str(SCREENSHOTS / "lab-hints.png"))

    # A run makes the lab "attempted" on the list, with no score until a graded one.
    learner = User.objects.get(username="hint-taker")
    Submission.objects.create(
        learner=learner, lab=Lab.objects.get(slug="laplace-mechanism"), mode="run", cells=["print(1)"]
    )
    page.goto(f"{base}/labs/")
    card = page.locator('.lab-card[data-lab="laplace-mechanism"]')
    assert card.locator(".lab-status").inner_text() == "Attempted"
    assert has_no_horizontal_overflow(page)


def test_lab_list_fits_a_phone(live_server, phone_page, content):
    phone_page.goto(f"{live_server.url}/labs/")
    assert has_no_horizontal_overflow(phone_page)
    screenshot(phone_page, "lab-list-phone")
