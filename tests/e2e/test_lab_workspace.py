"""The lab page as a workspace, in a real browser with a real worker and sandbox: a run that draws a
figure shows it under the editor, the code is kept across visits, a hint, a graded submission
whose checks show in place, an earlier submission restored, the lab marked on the list; keyboard
only where a learner would use it; and axe-core finds no serious WCAG 2.1 AA violation on the
lab, quiz and dashboard pages."""

from pathlib import Path

import pytest
from django.conf import settings

from mlrange.labs.models import Draft, Submission
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import answer_visible_questions, has_no_horizontal_overflow, sign_up
from tests.e2e.test_walkthrough import LAB, platform_ready  # noqa: F401 -- a fixture, used by name
from tests.integration.conftest import start_worker  # noqa: F401 -- a fixture, used by name

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

FIGURE_CODE = """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 2.5))
ax.plot([0.0, 0.1, 0.2, 0.3], [0.98, 0.71, 0.33, 0.12], marker="o")
ax.set_xlabel("epsilon")
ax.set_ylabel("accuracy")
ax.set_title("workspace figure")
plt.show()
print("figure drawn")
"""
RESULT_FINAL = "#run-result [data-final=true]"


def editor_code(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()"))


def set_editor_code(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)", code)


def assert_accessible(page, name: str) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page)
    assert not violations, f"axe-core on the {name} page:\n{describe(violations)}"


def test_lab_workspace_walk(live_server, page, platform_ready):  # noqa: F811 -- the imported fixture
    base = live_server.url
    lab_url = f"{base}/labs/{LAB}/"
    sign_up(page, base, "worker-bee")
    assert_accessible(page, "dashboard")

    # Open the lab; write code that draws a figure; Ctrl+Enter runs it from the keyboard.
    page.goto(lab_url)
    page.wait_for_selector(".CodeMirror")
    assert_accessible(page, "lab")
    set_editor_code(page, FIGURE_CODE)
    page.click(".CodeMirror-code")
    page.keyboard.press("Control+End")
    page.keyboard.type("# kept across visits\n")
    page.keyboard.press("Control+Enter")
    try:
        page.wait_for_selector(RESULT_FINAL, timeout=180_000)
    except Exception:
        screenshot(page, "workspace-run-stuck")
        pytest.fail(f"{Submission.objects.values('status', 'message')}\n{platform_ready.output()[-4000:]}")
    assert page.url == lab_url, "running code left the lab page"
    result = page.inner_text("#run-result")
    assert "Completed" in result, result
    assert "figure drawn" in result
    figure = page.locator("#run-result img.figure")
    assert figure.count() == 1, result
    assert page.evaluate("img => img.naturalWidth > 100 && img.complete", figure.element_handle())
    assert page.inner_text("#run-announce").startswith("Run of")  # told to screen readers
    screenshot(page, "workspace-figure")
    assert_accessible(page, "lab with a result")

    # The draft is saved as the learner types; leaving and coming back finds the code.
    page.wait_for_function(
        "() => document.getElementById('draft-state').textContent.startsWith('Draft saved')"
    )
    assert "# kept across visits" in Draft.objects.get(learner__username="worker-bee").code
    page.goto(f"{base}/labs/")
    page.goto(lab_url)
    page.wait_for_selector(".CodeMirror")
    assert "# kept across visits" in editor_code(page)
    assert "Your saved draft" in page.inner_text("#draft-state")
    # Returning shows the last result under the editor too.
    assert page.locator("#run-result img.figure").count() == 1

    # Esc leaves the editor (Tab indents inside it): focus moves on to the Run button.
    page.click(".CodeMirror-code")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "run-button"

    # A hint: revealed in place on request.
    page.click("#hints button[type=submit]")
    page.wait_for_selector("#hints li.hint")
    assert "Hint 1" in page.inner_text("#hints")

    # Submit for grading with Ctrl+Shift+Enter; the checks show in place.
    reference = (Path(settings.LABS_DIR) / LAB / "solutions" / "reference_pgd.py").read_text()
    set_editor_code(page, reference)
    page.click(".CodeMirror-code")
    page.keyboard.press("Control+Shift+Enter")
    page.wait_for_selector("#run-result .status-line:has-text('Graded submission')")
    try:
        page.wait_for_selector(RESULT_FINAL, timeout=180_000)
    except Exception:
        screenshot(page, "workspace-grade-stuck")
        pytest.fail(f"{Submission.objects.values('status', 'message')}\n{platform_ready.output()[-4000:]}")
    assert page.url == lab_url
    assert "Passed" in page.inner_text("#submission-status")
    assert page.locator("#run-result .checks li.check.ok").count() >= 1
    screenshot(page, "workspace-graded")
    assert_accessible(page, "lab with checks")

    # The history lists both; the earlier run opens in place and its code comes back.
    page.wait_for_selector("#history tbody tr:nth-child(2)")
    rows = page.locator("#history tbody tr")
    assert rows.count() == 2
    rows.nth(1).locator("a.open-submission").click()
    page.wait_for_selector("#run-result img.figure")
    assert page.evaluate("document.activeElement.id") == "result"
    rows.nth(1).locator("button:has-text('Restore')").click()
    page.wait_for_function(
        "() => document.querySelector('.CodeMirror').CodeMirror.getValue().includes('figure drawn')"
    )
    page.wait_for_function(
        "() => document.getElementById('draft-state').textContent.startsWith('Draft saved')"
    )
    assert "workspace figure" in Draft.objects.get(learner__username="worker-bee").code

    # Reset to starter: the editor holds the starter code; the draft is gone.
    page.click("#reset-button")
    page.wait_for_function("() => document.getElementById('draft-state').textContent === 'Starter code'")
    assert "workspace figure" not in editor_code(page)
    assert not Draft.objects.filter(learner__username="worker-bee").exists()

    # The lab list marks the lab as passed, with its best score.
    page.goto(f"{base}/labs/")
    card = page.locator(f"[data-lab='{LAB}']")
    assert "Passed" in card.locator(".lab-status").inner_text()
    assert "100" in card.inner_text()
    assert_accessible(page, "lab list")

    # A quiz page, and the dashboard now with evidence, pass axe too.
    page.goto(f"{base}/quizzes/")
    page.click("button:has-text('Start quick quiz')")
    page.wait_for_selector("fieldset.question")
    assert_accessible(page, "quiz")
    answer_visible_questions(page)
    page.click("button:has-text('Submit my answers')")
    page.wait_for_url("**/results/**")
    assert_accessible(page, "quiz results")
    page.goto(f"{base}/dashboard/")
    assert_accessible(page, "dashboard with evidence")

    # On a phone the workspace stacks under the brief without sideways scrolling.
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(page.context.cookies())
    phone_page = phone.new_page()
    phone_page.goto(lab_url)
    phone_page.wait_for_selector(".CodeMirror")
    screenshot(phone_page, "workspace-phone")
    # With is_mobile the layout viewport widens to fit overflowing content: compare with 390.
    assert has_no_horizontal_overflow(phone_page)
    assert phone_page.evaluate("document.scrollingElement.scrollWidth") <= 391
    phone.close()
