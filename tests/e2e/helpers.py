"""Browser steps shared by the end-to-end tests."""

from typing import Any


def sign_up(page: Any, base: str, username: str, *, role: str = "learner") -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", username)
    page.select_option("#id_role", role)
    page.fill("#id_password1", "An-excellent-passphrase-42")
    page.fill("#id_password2", "An-excellent-passphrase-42")
    page.keyboard.press("Enter")  # keyboard-only: the form submits from the last field
    page.wait_for_url("**/dashboard/")


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
