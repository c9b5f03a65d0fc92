"""The lab list knows the learner: grouped by sub-skill in learning-path order, filterable by
sub-skill and level, each lab with the learner's status and best score, on the page and in the API."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from mlrange.labs.models import Submission
from tests.progress.factories import make_catalog, make_lab, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def path_labs(db):
    """Six labs over three sub-skills and three levels, created out of path order."""
    make_catalog()
    return {
        "mi": make_lab("privacy-preserving-ml", "intermediate", slug="mi"),
        "dp": make_lab("privacy-preserving-ml", "advanced", slug="dp"),
        "laplace": make_lab("privacy-preserving-ml", "beginner", slug="laplace"),
        "at": make_lab("model-security", "advanced", slug="at"),
        "fgsm": make_lab("model-security", "intermediate", slug="fgsm"),
        "scanner": make_lab("infrastructure-security", "intermediate", slug="scanner"),
    }


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _standing(learner, path_labs) -> None:
    """fgsm passed (best 100 after a failed 40), mi attempted with a graded 55, scanner only run."""
    make_submission(learner, path_labs["fgsm"], fractions=(0.4, 0.4))
    make_submission(learner, path_labs["fgsm"], fractions=(1.0, 1.0))
    make_submission(learner, path_labs["mi"], fractions=(0.55, 0.55))
    Submission.objects.create(
        learner=learner, lab=path_labs["scanner"], mode=Submission.Mode.RUN, cells=["print(1)"]
    )


def test_api_lists_labs_in_learning_path_order(api_client, path_labs):
    slugs = [row["slug"] for row in api_client.get("/api/v1/labs/").json()]
    assert slugs == ["fgsm", "at", "scanner", "laplace", "mi", "dp"]


def test_api_gives_anonymous_visitors_no_status(api_client, path_labs):
    rows = api_client.get("/api/v1/labs/").json()
    assert {(row["status"], row["best_score"]) for row in rows} == {(None, None)}


def test_api_carries_the_learners_status_and_best_score(learner, path_labs):
    _standing(learner, path_labs)
    rows = {
        row["slug"]: (row["status"], row["best_score"]) for row in api_as(learner).get("/api/v1/labs/").json()
    }
    assert rows["fgsm"][0] == "passed"
    assert rows["fgsm"][1] == pytest.approx(100.0)
    assert rows["mi"][0] == "attempted"
    assert rows["mi"][1] == pytest.approx(55.0)
    assert rows["scanner"] == ("attempted", None)
    assert rows["dp"] == ("not_started", None)


def test_another_learners_work_never_shows(learner, other_learner, path_labs):
    _standing(other_learner, path_labs)
    rows = api_as(learner).get("/api/v1/labs/").json()
    assert {(row["status"], row["best_score"]) for row in rows} == {("not_started", None)}
    page = web_as(learner).get("/labs/").content.decode()
    assert "Passed</span>" not in page
    assert "Best score" not in page


def test_api_filters_by_subskill_and_level(api_client, path_labs):
    rows = api_client.get("/api/v1/labs/", {"subskill": "privacy-preserving-ml", "level": "advanced"}).json()
    assert [row["slug"] for row in rows] == ["dp"]


def test_api_refuses_an_unknown_filter_and_says_where_to_look(api_client, path_labs):
    response = api_client.get("/api/v1/labs/", {"level": "wizard"})
    assert response.status_code == 400
    assert "/api/v1/levels/" in str(response.json()["level"])


def test_list_and_its_status_take_a_fixed_number_of_queries(learner, path_labs, django_assert_num_queries):
    _standing(learner, path_labs)
    client = api_as(learner)
    with django_assert_num_queries(1):
        client.get("/api/v1/labs/")
    for n in range(5):
        make_lab("data-security", "beginner", slug=f"more-{n}")
        make_submission(learner, path_labs["dp"])
    with django_assert_num_queries(1):
        assert len(client.get("/api/v1/labs/").json()) == 11


def test_page_takes_a_fixed_number_of_queries(learner, path_labs, django_assert_num_queries):
    _standing(learner, path_labs)
    client = web_as(learner)
    client.get("/labs/")  # warm the session
    with django_assert_num_queries(6):  # session, user, sub-skills, levels, labs with status, stages
        client.get("/labs/")
    for n in range(5):
        make_lab("data-security", "beginner", slug=f"more-{n}")
    with django_assert_num_queries(6):
        client.get("/labs/")


def test_page_groups_labs_by_subskill_in_path_order_without_bullets(client, path_labs):
    page = client.get("/labs/").content.decode()
    groups = [page.index(f'id="group-{slug}"') for slug in ("model-security", "infrastructure-security")]
    groups.append(page.index('id="group-privacy-preserving-ml"'))
    assert groups == sorted(groups)
    assert 'id="group-data-security"' not in page  # a sub-skill without labs gets no empty section
    privacy = page[groups[2] :]
    assert (
        privacy.index('data-lab="laplace"') < privacy.index('data-lab="mi"') < privacy.index('data-lab="dp"')
    )
    assert '<ol class="lab-grid" role="list">' in page
    assert 'title="Foundations">Path stage 1</li>' in page
    assert "Log in</a> to see where you stand" in page


def test_page_shows_status_badges_and_best_scores(learner, path_labs):
    _standing(learner, path_labs)
    page = web_as(learner).get("/labs/").content.decode()

    def card(slug: str) -> str:
        start = page.index(f'data-lab="{slug}"')
        return page[start : page.index("</li>\n    \n", start)]

    assert "lab-passed" in page
    assert 'badge good lab-status">Passed' in card("fgsm")
    assert "Best score <strong>100</strong> / 100" in card("fgsm")
    assert 'lab-status">Attempted' in card("mi")
    assert "<strong>55</strong>" in card("mi")
    assert "no graded score yet" in card("scanner")
    assert 'lab-status">Not started' in card("dp")
    assert "1 of 2 passed" in page  # model security: fgsm passed, at not yet


def test_page_filters_with_a_plain_get_form(client, path_labs):
    page = client.get("/labs/", {"subskill": "model-security"}).content.decode()
    assert 'data-lab="fgsm"' in page
    assert 'data-lab="at"' in page
    assert 'data-lab="mi"' not in page
    assert '<option value="model-security" selected>' in page
    assert "2 labs match your filters" in page
    assert "Clear filters" in page
    page = client.get("/labs/", {"subskill": "model-security", "level": "beginner"}).content.decode()
    assert "No lab matches these filters" in page


def test_page_explains_an_unknown_filter_and_shows_everything(client, path_labs):
    response = client.get("/labs/", {"level": "wizard"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is no level “wizard”; showing every level." in page
    assert 'data-lab="dp"' in page
    assert 'data-lab="laplace"' in page
