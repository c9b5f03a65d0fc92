"""Browser steps shared by the end-to-end tests."""

from typing import Any


def sign_up(page: Any, base: str, username: str, *, role: str = "learner") -> None:
    """Sign up as a learner; for `role="instructor"` an operator then grants the role."""
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", "An-excellent-passphrase-42")
    page.fill("#id_password2", "An-excellent-passphrase-42")
    page.keyboard.press("Enter")  # keyboard-only: the form submits from the last field
    page.wait_for_url("**/dashboard/")
    if role == "instructor":
        from django.core.management import call_command

        call_command("grant_instructor", username)
        page.reload()


def answer_visible_questions(page: Any) -> None:
    """Give some answer to every question on the page (first choice, a number, an order)."""
    for fieldset in page.locator("fieldset.question").all():
        radios = fieldset.locator("input[type=radio]")
        checkboxes = fieldset.locator("input[type=checkbox]")
        selects = fieldset.locator("select")
        number = fieldset.locator("input[type=number]")
        if radios.count():
            radios.first.check()
        elif checkboxes.count():
            checkboxes.first.check()
        elif number.count():
            number.fill("0.1")
        elif selects.count():
            for i in range(selects.count()):
                selects.nth(i).select_option(str(i + 1))


def has_no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))
