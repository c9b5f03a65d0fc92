"""An LTI launch inside an LMS iframe, in Chromium: the test platform's course page frames MLRange.

The platform (127.0.0.1) and MLRange (localhost) are different sites, so the browser treats the
framed tool as third-party: only SameSite=None; Secure cookies reach it (LTI_EMBED).
"""

from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.lti.conftest import LEARNER, lms  # noqa: F401 -- the `lms` fixture: the test platform
from tests.lti.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def embed_cookies(settings: Any) -> None:
    settings.LTI_EMBED = True
    settings.SESSION_COOKIE_SAMESITE = "None"
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SAMESITE = "None"
    settings.CSRF_COOKIE_SECURE = True


def test_a_launch_in_an_lms_iframe_opens_mlrange_signed_in(
    lms: Platform,  # noqa: F811 -- the fixture imported above
    embed_cookies: None,
    page: Any,
) -> None:
    from tests.progress.factories import make_catalog, make_lab

    make_catalog()
    lab = make_lab(slug="adversarial-examples")  # a lab pack in labs/: its page reads the files
    lms.course_page_launches["/course/sec101"] = {
        "member": LEARNER,
        "course_id": "sec101",
        "custom": {"target": "lab:adversarial-examples"},
    }

    page.goto(lms.url + "/course/sec101")

    frame = page.frame_locator("#tool")
    # Signed in inside the frame as the LMS user's account, on the lab the link names.
    who = frame.locator(".who")
    who.wait_for()
    assert who.inner_text().startswith("ada-lovelace-")
    tool_frame = next(f for f in page.frames if f.url.startswith(lms.tool_launch_url.split("/lti/")[0]))
    assert tool_frame.url.endswith(f"/labs/{lab.slug}/")
    assert frame.locator("h1").first.inner_text() != "Server Error (500)"
    screenshot(page, "lti-iframe-launch")


def test_where_the_frame_gets_no_cookie_the_launch_offers_a_new_window_that_works(
    lms: Platform,  # noqa: F811 -- the fixture imported above
    embed_cookies: None,
    page: Any,
) -> None:
    lms.course_page_launches["/course/sec101"] = {"member": LEARNER, "course_id": "sec101"}

    def refuse_framed_cookies(route: Any) -> None:
        """A browser that keeps no cookie for a framed site: the first login's cookie is lost."""
        if "lti1p3_new_window" in route.request.url:
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        route.fulfill(response=response, headers=headers)

    page.route("**/lti/login/**", refuse_framed_cookies)
    page.goto(lms.url + "/course/sec101")

    link = page.frame_locator("#tool").locator("#lti-new-window")
    link.wait_for()
    screenshot(page, "lti-iframe-new-window")
    with page.context.expect_page() as popup_info:
        link.click()
    popup = popup_info.value
    popup.wait_for_url("**/dashboard/")
    assert popup.locator(".who").inner_text().startswith("ada-lovelace-")


def test_an_instructor_picks_a_lab_in_the_iframe_and_the_lms_receives_it(
    lms: Platform,  # noqa: F811 -- the fixture imported above
    embed_cookies: None,
    page: Any,
) -> None:
    from tests.lti.conftest import INSTRUCTOR
    from tests.progress.factories import make_catalog, make_lab

    make_catalog()
    make_lab(slug="adversarial-examples")
    lms.course_page_launches["/course/sec101"] = {
        "member": INSTRUCTOR,
        "course_id": "sec101",
        "message_type": "LtiDeepLinkingRequest",
    }

    page.goto(lms.url + "/course/sec101")
    frame = page.frame_locator("#tool")
    frame.get_by_label("Lab", exact=False).first.wait_for()
    screenshot(page, "lti-deep-link-picker")
    frame.locator('input[value="lab:adversarial-examples"]').check()
    frame.get_by_role("button", name="Add to the course").click()

    # The signed response goes back to the LMS by itself (static script, allowed by the CSP).
    frame.locator("#result").wait_for()
    assert frame.locator("#result").inner_text().startswith("added: MLRange lab:")
    assert [item["custom"]["target"] for item in lms.deep_link_items] == ["lab:adversarial-examples"]
