"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("MLRANGE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in this thread; Django's async-safety check would
# otherwise refuse the ORM calls the tests make between page actions.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Collects what the Content-Security-Policy blocked on `page` (Chromium logs each one)."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    violations = csp_violations(page)
    yield page
    context.close()
    assert not violations, "the Content-Security-Policy blocked something on a page:\n" + "\n".join(
        violations
    )


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    violations = csp_violations(page)
    yield page
    context.close()
    assert not violations, "the Content-Security-Policy blocked something on a page:\n" + "\n".join(
        violations
    )


def screenshot(page, name: str) -> Path | None:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under var/screenshots/ for people to look at.

    A picture is for a person, not an assertion: on a machine too loaded to render one in
    time the test goes on without it (and says so) rather than failing on that alone.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True, timeout=60_000)
    except PlaywrightTimeoutError:
        warnings.warn(f"screenshot {name} timed out; skipped", stacklevel=2)
        return None
    return path
