"""A new learner's first session in a real browser with a real worker: sign up, placement
test, a graded lab submission, and a dashboard that changed; then an instructor's cohort."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from mlrange.labs.models import Submission
from tests.e2e.conftest import csp_violations, screenshot
from tests.e2e.helpers import answer_visible_questions, has_no_horizontal_overflow, sign_up
from tests.integration.conftest import start_worker  # noqa: F401 -- a fixture, used by name

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LAB = "adversarial-examples"


@pytest.fixture
def platform_ready(db, start_worker):  # noqa: F811 -- the imported fixture
    from mlrange.labs import assets, registry
    from mlrange.labs.runner import sandbox_problem

    problem = sandbox_problem()
    if problem:
        if os.environ.get("MLRANGE_REQUIRE_SANDBOX") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    assets.build_lab_assets(registry.get_lab(LAB))
    call_command("load_curriculum", verbosity=0)
    return start_worker(
        broker_url=settings.CELERY_BROKER_URL,
        queue_dir=settings.QUEUE_DIR,
        extra_env={"MLRANGE_WARM_POOL": "1", "MLRANGE_POOL_SIZE": "1"},
    )


def test_new_learner_walkthrough_and_cohort(live_server, browser, platform_ready):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    blocked = csp_violations(page)

    sign_up(page, base, "walker")
    before = page.inner_text("main")

    # Placement test: one question at a time until the engine stops.
    page.goto(f"{base}/quizzes/")
    page.click("text=Start placement test")
    for _ in range(120):
        if "/results/" in page.url:
            break
        answer_visible_questions(page)
        page.click("button:has-text('Answer and continue')")
    assert "/results/" in page.url, "the placement test never finished"
    results = page.inner_text("main")
    assert "Model Security and Robustness" in results
    screenshot(page, "placement-results")

    # A graded lab submission written in the editor, followed live under it.
    page.goto(f"{base}/labs/{LAB}/")
    code = (Path(settings.LABS_DIR) / LAB / "solutions" / "reference_pgd.py").read_text()
    page.evaluate("code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)", code)
    screenshot(page, "lab-editor")
    page.click("#grade-button")  # the result comes in under the editor; the page stays
    try:
        page.wait_for_selector(
            "#run-result .status-passed, #run-result .status-failed, #run-result .status-error",
            timeout=120_000,
        )
    except Exception:
        screenshot(page, "lab-submission-stuck")
        pytest.fail(f"{Submission.objects.values('status', 'message')}\n{platform_ready.output()[-4000:]}")
    assert "Passed" in page.inner_text("#submission-status")
    assert Submission.objects.get(learner__username="walker").score == 100
    screenshot(page, "lab-submission-passed")

    # The dashboard now shows evidence from both.
    page.goto(f"{base}/dashboard/")
    after = page.inner_text("main")
    assert after != before
    assert "Craft adversarial examples" in after
    assert page.locator("svg").count() >= 2  # radar and lab scores, rendered locally
    screenshot(page, "dashboard-laptop")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(context.cookies())
    phone_page = phone.new_page()
    phone_page.goto(f"{base}/dashboard/")
    screenshot(phone_page, "dashboard-phone")
    assert has_no_horizontal_overflow(phone_page), phone_page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )

    # An instructor creates a cohort; the learner joins with its code; the cohort page shows them.
    teacher = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    blocked_for_teacher = csp_violations(teacher)
    sign_up(teacher, base, "teacher", role="instructor")
    teacher.fill("#id_name", "Evening class")
    teacher.click("button:has-text('Create cohort')")
    code_text = teacher.locator("code").first.inner_text()
    page.goto(f"{base}/dashboard/")
    page.fill("#id_code", code_text)
    page.click("button:has-text('Join')")
    teacher.goto(f"{base}/dashboard/")
    teacher.click("text=Evening class")
    cohort = teacher.inner_text("main")
    assert "walker" in cohort
    screenshot(teacher, "cohort-laptop")
    csv = teacher.request.get(teacher.url + "export.csv")
    assert csv.status == 200
    assert "walker" in csv.text()
    # The learner cannot open the instructor's cohort page.
    assert page.goto(teacher.url).status == 404
    # Nothing the pages needed was blocked by the Content-Security-Policy (no inline script).
    assert blocked + blocked_for_teacher == []
    context.close()
    phone.close()
