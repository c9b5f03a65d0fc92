"""The learner's dashboard page and GET /api/v1/me/progress/: content, cache, query counts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mlrange.assessments.models import Quiz
from mlrange.labs.models import Submission
from mlrange.progress import services
from mlrange.progress.models import DeliverableLink, ProgressSnapshot
from tests.progress.factories import (
    grade_submission,
    make_attempt,
    make_item,
    make_lab,
    make_quiz,
    make_self_check,
    make_submission,
)

pytestmark = pytest.mark.django_db
DASHBOARD = "/dashboard/"
API = "/api/v1/me/progress/"


@pytest.fixture
def web(learner) -> Client:
    client = Client()
    client.force_login(learner)
    return client


def _history(learner, n: int) -> None:
    """n history items: half quiz attempts of two items each, half graded lab submissions."""
    quiz = make_quiz(Quiz.Kind.PRACTICE, "model-security")
    items = [make_item("model-security", b=b) for b in (-1.0, 0.0, 1.0)]
    lab = make_lab("model-security")
    start = timezone.now() - timedelta(days=30)
    for i in range(n):
        at = start + timedelta(minutes=i)
        if i % 2:
            make_attempt(learner, quiz, [(items[i % 3], 1.0), (items[(i + 1) % 3], 0.0)], at=at)
        else:
            make_submission(learner, lab, fractions=(1.0, 0.5), at=at)


def test_dashboard_url_name_is_kept():
    assert reverse("progress:dashboard") == DASHBOARD


def test_anonymous_visitor_is_sent_to_log_in(catalog):
    response = Client().get(DASHBOARD)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_new_learner_sees_a_friendly_empty_state_with_first_steps(catalog, web):
    make_quiz(Quiz.Kind.PLACEMENT, slug="placement")
    response = web.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Welcome to your dashboard" in html
    assert "First steps" in html
    assert "placement quiz" in html
    assert '<title id="radar-title">Level per sub-skill</title>' in html


def test_dashboard_shows_levels_charts_history_and_red_flags(catalog, learner, web):
    lab = make_lab("model-security", atlas=["AML.T0043.000"], owasp=["ML01"])
    submission = make_submission(learner, lab, fractions=(1.0, 1.0))
    make_self_check(learner, [(("model-security",), 2)])
    html = web.get(DASHBOARD).content.decode()
    assert "Welcome to your dashboard" not in html
    assert reverse("labs:submission", kwargs={"submission_id": submission.pk}) in html
    assert "Deploys models without input validation or monitoring" in html
    assert "No Infrastructure Security lab passed yet." in html
    assert 'id="timeline-title"' in html
    assert 'id="lab-scores-title"' in html
    assert 'class="visually-hidden"><caption>Best score per lab' in html
    assert "ML01 Input Manipulation" in html
    assert 'Self-assessed:\n          <span class="badge">Intermediate</span>' in html


def test_new_graded_submission_written_with_update_changes_the_dashboard(catalog, learner, web):
    lab = make_lab("infrastructure-security")
    make_submission(learner, lab, fractions=(0.0, 0.0))
    before = web.get(API).json()
    assert ProgressSnapshot.objects.filter(learner=learner).exists()
    submission = make_submission(learner, lab, graded=False)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.RUNNING)
    grade_submission(submission, fractions=(1.0, 1.0))
    after = web.get(API).json()
    infra_before = next(s for s in before["subskills"] if s["slug"] == "infrastructure-security")
    infra_after = next(s for s in after["subskills"] if s["slug"] == "infrastructure-security")
    assert infra_after["estimate"]["theta"] > infra_before["estimate"]["theta"]
    assert "no-input-validation-or-monitoring" in {f["slug"] for f in before["red_flags"]}
    assert "no-input-validation-or-monitoring" not in {f["slug"] for f in after["red_flags"]}
    assert after["labs"][0]["passed"] is True


def test_new_quiz_answers_change_the_cached_progress(catalog, learner):
    item = make_item("data-security")
    quiz = make_quiz(Quiz.Kind.PRACTICE, "data-security")
    first = services.progress_for_learner(learner=learner)
    make_attempt(learner, quiz, [(item, 1.0)])
    second = services.progress_for_learner(learner=learner)
    assert first["subskills"][1]["estimate"]["n_items"] == 0
    assert second["subskills"][1]["estimate"]["n_items"] == 1


def test_unchanged_evidence_is_served_from_the_cache(catalog, learner, django_assert_max_num_queries):
    make_submission(learner, make_lab(), fractions=(1.0, 1.0))
    first = services.progress_for_learner(learner=learner)
    with django_assert_max_num_queries(2):
        second = services.progress_for_learner(learner=learner)
    assert second == first


def test_linking_a_deliverable_ticks_it(catalog, learner, web):
    response = web.post(
        reverse("progress:deliverable"), {"stage": "foundations", "index": 0, "url": "https://example.org/r"}
    )
    assert response.status_code == 302
    assert DeliverableLink.objects.get(learner=learner).url == "https://example.org/r"
    stage = web.get(API).json()["stages"][0]
    assert next(i for i in stage["items"] if i["key"] == "deliverable-0")["done"] is True


def test_a_deliverable_link_must_be_a_web_address(catalog, learner, web):
    web.post(
        reverse("progress:deliverable"), {"stage": "foundations", "index": 0, "url": "javascript:alert(1)"}
    )
    assert not DeliverableLink.objects.filter(learner=learner).exists()


def test_api_requires_authentication(catalog, api_client):
    assert api_client.get(API).status_code == 401


def test_api_returns_everything_the_dashboard_shows(catalog, learner, learner_client):
    make_submission(learner, make_lab(), fractions=(1.0, 1.0))
    data = learner_client.get(API).json()
    assert set(data) >= {
        "subskills",
        "overall",
        "timeline",
        "labs",
        "stages",
        "history",
        "next_steps",
        "red_flags",
        "coverage",
    }
    assert [s["slug"] for s in data["subskills"]] == [
        "model-security",
        "data-security",
        "infrastructure-security",
        "privacy-preserving-ml",
        "threat-modeling",
    ]
    assert data["subskills"][0]["estimate"]["n_items"] == 2
    assert data["history"]["submission_total"] == 1


def _count_queries(django_assert_max_num_queries, client, url, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", [DASHBOARD, API])
def test_query_count_is_the_same_at_2_and_at_50_history_items(
    catalog, learner, other_learner, url, django_assert_max_num_queries
):
    small, large = Client(), Client()
    small.force_login(learner)
    large.force_login(other_learner)
    _history(learner, 2)
    _history(other_learner, 50)
    cold_small = _count_queries(django_assert_max_num_queries, small, url, 40)
    cold_large = _count_queries(django_assert_max_num_queries, large, url, 40)
    warm_small = _count_queries(django_assert_max_num_queries, small, url, 40)
    warm_large = _count_queries(django_assert_max_num_queries, large, url, 40)
    assert cold_small == cold_large
    assert warm_small == warm_large
    assert warm_large < cold_large


def test_history_links_quiz_attempts_to_their_results(catalog, learner, web):
    quiz = make_quiz(Quiz.Kind.PRACTICE, "model-security")
    attempt = make_attempt(learner, quiz, [(make_item("model-security"), 1.0)])
    html = web.get(DASHBOARD).content.decode()
    assert reverse("assessments:results", kwargs={"attempt_id": attempt.pk}) in html
