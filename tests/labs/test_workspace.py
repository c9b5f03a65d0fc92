"""The lab page as a workspace: a draft per learner and lab, results under the editor, earlier
submissions opened and restored. Another learner's draft or submission is never reachable."""

import pytest
from django.test import override_settings

from mlrange.labs import content
from mlrange.labs.models import Draft, Submission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DRAFT = "/api/v1/labs/adversarial-examples/draft/"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def test_without_a_draft_the_api_gives_the_starter_code(learner_client, lab):
    response = learner_client.get(DRAFT)
    assert response.status_code == 200
    assert response.json() == {"code": content.lab_pack(lab.slug).starter_code, "is_saved": False}


def test_a_saved_draft_is_what_the_api_and_the_page_give_back(learner_client, learner, lab, client):
    response = learner_client.put(DRAFT, {"code": "epsilon = 0.1\n"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"code": "epsilon = 0.1\n", "is_saved": True}
    assert learner_client.get(DRAFT).json()["code"] == "epsilon = 0.1\n"
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert "epsilon = 0.1" in page
    assert "Your saved draft" in page


def test_saving_again_keeps_one_draft_with_the_latest_code(learner_client, lab):
    learner_client.put(DRAFT, {"code": "a = 1"}, format="json")
    learner_client.put(DRAFT, {"code": "a = 2"}, format="json")
    assert list(Draft.objects.values_list("code", flat=True)) == ["a = 2"]


def test_another_learners_draft_is_never_visible(learner_client, lab, api_client):
    learner_client.put(DRAFT, {"code": "secret_plan = 1"}, format="json")
    api_client.force_authenticate(UserFactory.create(username="eve"))
    answer = api_client.get(DRAFT).json()
    assert answer["is_saved"] is False
    assert "secret_plan" not in answer["code"]


def test_deleting_the_draft_brings_the_starter_back(learner_client, lab):
    learner_client.put(DRAFT, {"code": "mine = 1"}, format="json")
    assert learner_client.delete(DRAFT).status_code == 204
    assert learner_client.get(DRAFT).json()["is_saved"] is False
    assert learner_client.delete(DRAFT).status_code == 204  # idempotent


@pytest.mark.parametrize(
    ("payload", "message"),
    [({}, "This field is required"), ({"code": None}, "may not be null")],
)
def test_bad_draft_input_is_a_400_that_says_what_to_fix(learner_client, lab, payload, message):
    response = learner_client.put(DRAFT, payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json())


@override_settings(LABS_MAX_CODE_BYTES=100)
def test_an_oversized_draft_is_refused_with_the_limit(learner_client, lab):
    response = learner_client.put(DRAFT, {"code": "é" * 60}, format="json")  # 60 chars, 120 bytes
    assert response.status_code == 400
    assert "the limit is 100" in response.json()["detail"]
    assert not Draft.objects.exists()


def test_drafts_need_a_login_and_a_real_lab(api_client, learner_client, lab):
    assert api_client.get(DRAFT).status_code in (401, 403)
    assert api_client.put(DRAFT, {"code": "x"}, format="json").status_code in (401, 403)
    assert learner_client.get("/api/v1/labs/no-such-lab/draft/").status_code == 404


def test_a_form_run_keeps_the_code_as_the_draft(client, learner, lab):
    client.force_login(learner)
    client.post("/labs/adversarial-examples/submit/", {"mode": "run", "code": "kept = True"})
    assert Draft.objects.get(learner=learner, lab=lab).code == "kept = True"


def test_reset_to_starter_without_javascript(client, learner, lab):
    Draft.objects.create(learner=learner, lab=lab, code="mine = 1")
    client.force_login(learner)
    response = client.post("/labs/adversarial-examples/draft/reset/", {"code": "ignored"})
    assert response.status_code == 302
    assert not Draft.objects.exists()
    assert "mine = 1" not in client.get("/labs/adversarial-examples/").content.decode()


def test_restore_puts_a_submissions_code_into_the_draft(client, learner, lab):
    submission = Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["a = 1", "b = 2"])
    client.force_login(learner)
    response = client.post(f"/labs/submissions/{submission.pk}/restore/")
    assert response.status_code == 302
    assert Draft.objects.get(learner=learner, lab=lab).code == "a = 1\n\nb = 2"


def test_restoring_another_learners_submission_is_a_404(client, learner, lab):
    theirs = Submission.objects.create(
        learner=UserFactory.create(username="eve"), lab=lab, mode="run", cells=["x"]
    )
    client.force_login(learner)
    assert client.post(f"/labs/submissions/{theirs.pk}/restore/").status_code == 404
    assert not Draft.objects.exists()


def test_the_submission_api_gives_the_code_to_restore(learner_client, learner, lab):
    submission = Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["a = 1"])
    assert learner_client.get(f"/api/v1/submissions/{submission.pk}/").json()["code"] == "a = 1"


def test_history_lists_only_the_learners_own_submissions(client, learner, lab):
    mine = Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["1"])
    theirs = Submission.objects.create(
        learner=UserFactory.create(username="eve"), lab=lab, mode="run", cells=["2"]
    )
    client.force_login(learner)
    html = client.get("/labs/adversarial-examples/history/").content.decode()
    assert str(mine.pk) in html
    assert str(theirs.pk) not in html
    assert f"/labs/submissions/{mine.pk}/restore/" in html


def test_the_latest_result_with_its_figure_and_checks_shows_under_the_editor(client, learner, lab):
    Submission.objects.create(
        learner=learner,
        lab=lab,
        mode="grade",
        cells=["x"],
        status=Submission.Status.FAILED,
        score=40,
        passed=False,
        checks=[
            {"title": "Untargeted tier", "points": 40, "max_points": 40, "passed": True, "feedback": "ok"}
        ],
        outputs=[{"type": "display", "data": {"image/png": PNG, "text/plain": "<Figure>"}}],
    )
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    result = page[page.index('id="run-result"') :]
    assert f'src="data:image/png;base64,{PNG}"' in result
    assert "Untargeted tier" in result
    assert "<h3>Checks</h3>" in result  # one level under the page's "Result" heading
    assert "hx-get" not in result  # final: nothing polls


def test_a_submission_in_flight_keeps_polling_under_the_editor(client, learner, lab):
    submission = Submission.objects.create(learner=learner, lab=lab, mode="run", cells=["x"])
    client.force_login(learner)
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert f"/labs/submissions/{submission.pk}/status/?wait=1&amp;h=3" in page
    assert "position 1 in the queue" in page
    status = client.get(f"/labs/submissions/{submission.pk}/status/?h=3").content.decode()
    assert "&amp;h=3" in status  # the next poll keeps the lab page's heading level


def test_listing_my_submissions_takes_the_same_queries_however_many(
    learner_client, learner, lab, django_assert_max_num_queries
):
    for status in (Submission.Status.COMPLETED, Submission.Status.PASSED, Submission.Status.FAILED) * 4:
        Submission.objects.create(
            learner=learner, lab=lab, mode="grade", cells=["x"], status=status, outputs=[]
        )
    with django_assert_max_num_queries(4):
        response = learner_client.get("/api/v1/labs/adversarial-examples/submissions/mine/")
    assert len(response.json()) == 12
    assert "outputs" not in response.json()[0]
    assert response.json()[0]["url"].startswith("/api/v1/submissions/")
