"""Cohorts: creating, joining, the cohort page, its API and CSV, and who may see them."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mlrange.assessments.models import Quiz
from mlrange.labs.models import Submission
from mlrange.progress import services
from mlrange.progress.models import Cohort, CohortMembership
from tests.factories import UserFactory
from tests.progress.factories import make_attempt, make_item, make_lab, make_quiz, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(catalog, instructor, learner):
    cohort = services.cohort_create(instructor=instructor, name="Spring 2026")
    services.cohort_join(learner=learner, code=cohort.code)
    return cohort


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_instructor_creates_a_cohort_and_gets_a_join_code(catalog, instructor):
    response = api_as(instructor).post("/api/v1/cohorts/", {"name": "Red team"}, format="json")
    assert response.status_code == 201
    cohort = Cohort.objects.get(pk=response.json()["id"])
    assert len(cohort.code) == 8
    assert response.json()["code"] == cohort.code
    assert list(cohort.instructors.all()) == [instructor]


def test_a_learner_cannot_create_a_cohort(catalog, learner_client):
    assert learner_client.post("/api/v1/cohorts/", {"name": "Mine"}, format="json").status_code == 403
    assert not Cohort.objects.exists()


def test_instructor_lists_only_their_cohorts(cohort, instructor):
    other = UserFactory.create(username="hopper", role="instructor")
    services.cohort_create(instructor=other, name="Not yours")
    rows = api_as(instructor).get("/api/v1/cohorts/").json()
    assert [(r["name"], r["learner_count"]) for r in rows] == [("Spring 2026", 1)]


def test_learner_joins_with_a_code_in_any_case(catalog, instructor, other_learner):
    cohort = services.cohort_create(instructor=instructor, name="C")
    response = api_as(other_learner).post(
        "/api/v1/cohorts/join/", {"code": f" {cohort.code.lower()} "}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"id": cohort.pk, "name": "C"}
    assert CohortMembership.objects.filter(cohort=cohort, learner=other_learner).exists()


def test_joining_twice_keeps_one_membership(cohort, learner):
    services.cohort_join(learner=learner, code=cohort.code)
    assert CohortMembership.objects.filter(cohort=cohort, learner=learner).count() == 1


def test_join_with_a_bad_code_is_a_400_with_a_message(catalog, learner_client):
    response = learner_client.post("/api/v1/cohorts/join/", {"code": "NOPE1234"}, format="json")
    assert response.status_code == 400
    assert "No cohort has that join code" in response.json()["detail"]


def test_join_form_on_the_dashboard_reports_a_bad_code(catalog, learner):
    response = web_as(learner).post(reverse("progress:join"), {"code": "WRONG"}, follow=True)
    assert "No cohort has that join code" in response.content.decode()


@pytest.mark.parametrize("who", ["other_instructor", "member", "outsider"])
def test_cohort_page_and_api_are_404_for_anyone_but_its_instructors(cohort, who, learner, other_learner):
    user = {
        "other_instructor": UserFactory.create(username="hopper", role="instructor"),
        "member": learner,
        "outsider": other_learner,
    }[who]
    assert web_as(user).get(reverse("progress:cohort", args=[cohort.pk])).status_code == 404
    assert web_as(user).get(reverse("progress:cohort_export", args=[cohort.pk])).status_code == 404
    assert api_as(user).get(f"/api/v1/cohorts/{cohort.pk}/progress/").status_code == 404


def test_anonymous_is_redirected_from_the_cohort_page_and_refused_by_the_api(cohort):
    page = Client().get(reverse("progress:cohort", args=[cohort.pk]))
    assert page.status_code == 302
    assert reverse("accounts:login") in page["Location"]
    assert APIClient().get(f"/api/v1/cohorts/{cohort.pk}/progress/").status_code == 401


def test_cohort_progress_shows_levels_pass_rates_item_statistics_and_who_is_stuck(
    cohort, instructor, learner, other_learner
):
    services.cohort_join(learner=other_learner, code=cohort.code)
    lab = make_lab("model-security", slug="evasion")
    for _ in range(3):
        make_submission(learner, lab, fractions=(0.0, 1.0))
    make_submission(other_learner, lab, fractions=(1.0, 1.0))
    item = make_item("data-security", key="ds-001")
    quiz = make_quiz(Quiz.Kind.PRACTICE, "data-security")
    make_attempt(learner, quiz, [(item, 1.0)])
    make_attempt(other_learner, quiz, [(item, 0.0)])
    data = api_as(instructor).get(f"/api/v1/cohorts/{cohort.pk}/progress/").json()
    assert [r["username"] for r in data["learners"]] == ["ada", "mallory"]
    assert set(data["learners"][0]["levels"]) == {
        "model-security",
        "data-security",
        "infrastructure-security",
        "privacy-preserving-ml",
        "threat-modeling",
    }
    assert data["labs"] == [
        {
            "slug": "evasion",
            "title": lab.title,
            "attempted": 2,
            "passed": 1,
            "pass_rate": 0.5,
            "hints_used": 0,
        }
    ]
    assert data["items"][0]["item"] == "ds-001"
    assert (data["items"][0]["responses"], data["items"][0]["proportion_correct"]) == (2, 0.5)
    assert data["stuck"] == [
        {"username": "ada", "reasons": [f"3+ graded submissions without a pass: {lab.title}"]}
    ]


def test_a_learner_idle_for_fourteen_days_is_stuck(cohort, instructor, learner):
    long_ago = timezone.now() - timedelta(days=20)
    make_submission(learner, make_lab(), fractions=(1.0, 1.0), at=long_ago)
    Submission.objects.filter(learner=learner).update(created_at=long_ago)
    CohortMembership.objects.filter(learner=learner).update(joined_at=timezone.now() - timedelta(days=30))
    data = services.cohort_progress(cohort=cohort)
    assert data["stuck"][0]["reasons"] == ["No activity for 20 days"]


def test_cohort_page_renders_for_its_instructor(cohort, instructor):
    html = web_as(instructor).get(reverse("progress:cohort", args=[cohort.pk])).content.decode()
    assert "Spring 2026" in html
    assert '<th scope="row">ada</th>' in html
    assert cohort.code in html


def test_csv_export_has_a_row_per_learner_with_levels(cohort, instructor, learner):
    make_submission(learner, make_lab("model-security"), fractions=(1.0, 1.0))
    learner.username = "=cmd"
    learner.save(update_fields=["username"])
    response = web_as(instructor).get(reverse("progress:cohort_export", args=[cohort.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["learner"] == "'=cmd"
    assert rows[0]["labs_passed"] == "1"
    assert rows[0]["model-security_level"] in {"advanced", "intermediate", "expert"}
    assert float(rows[0]["model-security_theta"]) > 0
    assert rows[0]["threat-modeling_theta"] == "0.0"


def test_cohort_query_count_does_not_grow_with_history(
    cohort, instructor, learner, django_assert_max_num_queries
):
    client = api_as(instructor)
    url = f"/api/v1/cohorts/{cohort.pk}/progress/"
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    lab = make_lab()
    quiz = make_quiz(Quiz.Kind.PRACTICE, "model-security")
    items = [make_item("model-security") for _ in range(5)]
    for i in range(25):
        make_submission(learner, lab, fractions=(0.5, 1.0))
        make_attempt(learner, quiz, [(items[i % 5], 1.0)])
    other = UserFactory.create(username="newcomer")
    services.cohort_join(learner=other, code=cohort.code)
    with django_assert_max_num_queries(40) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)
