"""Lab pages work as plain HTML forms; the status part is polled until the submission is final."""

import pytest
from django.test import override_settings

from mlrange.labs.models import Submission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_lab_list_and_detail_render_for_anonymous(client, lab):
    assert "Craft adversarial examples" in client.get("/labs/").content.decode()
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert "Log in</a> or" in page
    assert "adv_untargeted.npy" in page  # what to hand in, from the manifest
    assert "def pgd(" not in page  # reference solutions never reach the client


def test_detail_shows_editor_with_starter_for_learner(client, learner, lab):
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert 'name="code"' in page
    assert "Submit for grading" in page
    assert 'accept=".ipynb' in page


def test_form_post_creates_submission_and_redirects_to_it(client, learner, lab):
    client.force_login(learner)
    response = client.post("/labs/adversarial-examples/submit/", {"mode": "run", "code": "print(2)"})
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/labs/submissions/{submission.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "position 1 in the queue" in page
    assert "?wait=1" in page  # a long poll, asked again as soon as each answer arrives
    assert 'hx-trigger="load delay:50ms"' in page


@override_settings(LABS_MAX_IN_FLIGHT=0)
def test_refused_submission_keeps_the_code_and_says_why(client, learner, lab):
    client.force_login(learner)
    response = client.post(
        "/labs/adversarial-examples/submit/", {"mode": "grade", "code": "my_careful_work = 1"}
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "my_careful_work = 1" in page
    assert "wait for one to finish" in page


def test_final_submission_stops_polling_and_shows_checks(client, learner, lab):
    client.force_login(learner)
    submission = Submission.objects.create(
        learner=learner,
        lab=lab,
        mode="grade",
        cells=["x"],
        status=Submission.Status.FAILED,
        score=40,
        passed=False,
        checks=[
            {
                "id": "targeted",
                "title": "Targeted",
                "passed": False,
                "points": 0,
                "max_points": 60,
                "feedback": "Aim at the target class.",
            }
        ],
        outputs=[{"type": "stream", "name": "stdout", "text": "<script>alert(1)</script>"}],
    )
    response = client.get(f"/labs/submissions/{submission.pk}/status/")
    page = response.content.decode()
    assert response["HX-Trigger"] == "submission-final"
    assert "hx-trigger" not in page
    assert "Aim at the target class." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # learner output is escaped


def test_other_learners_submission_page_is_404(client, learner, lab):
    theirs = Submission.objects.create(
        learner=UserFactory.create(username="eve"), lab=lab, mode="run", cells=["1"]
    )
    client.force_login(learner)
    assert client.get(f"/labs/submissions/{theirs.pk}/").status_code == 404
    assert client.get(f"/labs/submissions/{theirs.pk}/status/").status_code == 404


def test_starter_notebook_downloads(client, lab):
    response = client.get("/labs/adversarial-examples/starter.ipynb")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b'"nbformat": 4' in response.content


def test_detail_says_the_labs_limits_and_the_isolation_mode(client, learner, lab, settings):
    settings.SANDBOX_MEMORY_MB = 1024  # the operator's ceiling wins over the manifest's 2048
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert "1024 MB of memory for everything it starts" in page
    assert 'data-isolation="cgroup"' in page

    settings.SANDBOX_ISOLATION = "single-user"
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert 'data-isolation="single-user"' in page
    assert "Single-user mode" in page


def test_detail_warns_when_labs_cannot_run_here(client, learner, lab, settings):
    settings.SANDBOX_ISOLATION = "sometimes"
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert "MLRANGE_SANDBOX_ISOLATION is &#x27;sometimes&#x27;" in page
