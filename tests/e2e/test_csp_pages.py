"""The pages with scripts work under the Content-Security-Policy: the lab editor, a quiz from start
to results, and the admin. The `page` fixture fails a test on any blocked script or style."""

import pytest
from django.core.management import call_command

from tests.e2e.helpers import answer_visible_questions, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def content(db):
    call_command("load_curriculum", verbosity=0)


def test_lab_editor_and_quiz_work_under_the_policy(live_server, page, content):
    base = live_server.url
    response = page.goto(base + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_up(page, base, "csp-learner")

    # The lab page's CodeMirror editor (static JS) loads and takes keyboard input.
    page.goto(f"{base}/labs/adversarial-examples/")
    page.wait_for_selector(".CodeMirror")
    page.click(".CodeMirror")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('typed under CSP')")
    code = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "print('typed under CSP')" in code

    # A quick quiz from start to its results page (SVG confidence bars, no inline style).
    page.goto(f"{base}/quizzes/")
    page.click("button:has-text('Start quick quiz')")
    answer_visible_questions(page)
    page.click("button:has-text('Submit my answers')")
    page.wait_for_url("**/results/**")
    assert page.locator("svg.bar rect").count() >= 1


def test_admin_works_under_the_policy(live_server, page, db):
    from tests.factories import UserFactory

    UserFactory.create(username="root", is_staff=True, is_superuser=True)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "correct horse battery staple")
    page.click("input[type=submit]")
    page.goto(live_server.url + "/admin/accounts/user/")
    page.check("#action-toggle")  # admin's own JS: select all rows
    assert page.locator("input.action-select:checked").count() >= 1
