"""Pages: login required, quiz list, taking quizzes with plain form posts, results, query counts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mlrange.assessments.models import Attempt, Item, Quiz


@pytest.fixture
def web(learner):
    client = Client()
    client.force_login(learner)
    return client


def test_quiz_list_is_public_but_starting_requires_login(client, bank, practice_quiz):
    page = client.get("/quizzes/")
    assert page.status_code == 200
    assert "Log in to start" in page.content.decode()
    response = client.post(f"/quizzes/{practice_quiz.slug}/start/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_quiz_list_renders_with_a_fixed_number_of_queries(web, bank, learner, practice_quiz):
    web.post(f"/quizzes/{practice_quiz.slug}/start/")
    web.post("/quizzes/placement/start/")
    with CaptureQueriesContext(connection) as few:
        response = web.get("/quizzes/")
    assert response.status_code == 200
    assert "Placement test" in response.content.decode()
    web.post("/quizzes/self-check/start/")
    web.post("/quizzes/quick-quiz/start/")
    with CaptureQueriesContext(connection) as more:
        web.get("/quizzes/")
    assert len(more) == len(few)
    assert len(few) <= 6


def test_practice_quiz_can_be_taken_through_plain_form_posts(web, practice_quiz):
    response = web.post(f"/quizzes/{practice_quiz.slug}/start/")
    attempt = Attempt.objects.get()
    assert response["Location"] == f"/quizzes/attempts/{attempt.pk}/"
    page = web.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "FIXTURE-EXPLANATION" not in html
    assert 'name="item-ms-e-001-a"' in html
    posted = web.post(
        response["Location"],
        {
            "item-ms-b-001": "a",
            "item-ms-i-001": ["a", "b"],
            "item-ms-i-001-shown": "1",
            "item-ms-a-001": "true",
            "item-ms-a-002": "0.031",
            "item-ms-e-001-b": "1",
            "item-ms-e-001-c": "2",
            "item-ms-e-001-a": "3",
            "item-ms-e-001-d": "4",
            "item-ms-e-002-shown": "1",
        },
    )
    assert posted["Location"] == f"/quizzes/attempts/{attempt.pk}/results/"
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.results["score"]["points"] == 5.0
    results = web.get(posted["Location"])
    assert results.status_code == 200
    html = results.content.decode()
    assert "FIXTURE-EXPLANATION-MS-B-001" in html
    assert "Evade AI Model" in html
    assert "What to study next" in html


def test_ordering_with_repeated_positions_is_refused_and_nothing_recorded(web, practice_quiz):
    web.post(f"/quizzes/{practice_quiz.slug}/start/")
    attempt = Attempt.objects.get()
    response = web.post(
        f"/quizzes/attempts/{attempt.pk}/",
        {
            "item-ms-e-001-a": "1",
            "item-ms-e-001-b": "1",
            "item-ms-e-001-c": "2",
            "item-ms-e-001-d": "3",
        },
        follow=True,
    )
    assert "different position" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.is_open


def test_placement_one_question_at_a_time_through_forms(web, placement_quiz):
    web.post("/quizzes/placement/start/")
    attempt = Attempt.objects.get()
    url = f"/quizzes/attempts/{attempt.pk}/"
    for _ in range(12):
        page = web.get(url)
        if page.status_code == 302:
            break
        assert page.content.decode().count('class="question card"') == 1
        assert "<progress" in page.content.decode()
        row = attempt.attempt_items.filter(answered_at__isnull=True).select_related("item").get()
        item = row.item
        data = {
            "single": {f"item-{item.key}": item.answer},
            "true_false": {f"item-{item.key}": "true" if item.answer else "false"},
        }.get(item.type)
        if item.type == "numeric":
            data = {f"item-{item.key}": str(item.answer["value"])}
        elif item.type == "multiple":
            data = {f"item-{item.key}": item.answer, f"item-{item.key}-shown": "1"}
        elif item.type == "ordering":
            data = {f"item-{item.key}-{oid}": str(i) for i, oid in enumerate(item.answer, start=1)}
        web.post(url, data)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    results = web.get(f"/quizzes/attempts/{attempt.pk}/results/")
    assert results.status_code == 200
    assert "Your level per sub-skill" in results.content.decode()


def test_self_check_page_and_comparison_with_the_measured_level(web, bank):
    web.post("/quizzes/self-check/start/")
    attempt = Attempt.objects.get()
    page = web.get(f"/quizzes/attempts/{attempt.pk}/")
    assert page.status_code == 200
    assert 'name="rating-self-check-5"' in page.content.decode()
    web.post(f"/quizzes/attempts/{attempt.pk}/", {"rating-self-check-5": "4"})
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    web.post("/quizzes/practice-model-security/start/")
    practice = Attempt.objects.exclude(pk=attempt.pk).get()
    web.post(f"/quizzes/attempts/{practice.pk}/", {"item-ms-b-001": "a"})
    html = web.get(f"/quizzes/attempts/{practice.pk}/results/").content.decode()
    assert "Self-assessed vs measured" in html


def test_attempt_page_queries_do_not_grow_with_the_number_of_questions(web, practice_quiz, bank):
    web.post(f"/quizzes/{practice_quiz.slug}/start/")
    six = Attempt.objects.get()
    with CaptureQueriesContext(connection) as many:
        assert web.get(f"/quizzes/attempts/{six.pk}/").status_code == 200
    web.post("/quizzes/quick-quiz/start/")
    one = Attempt.objects.get(quiz__kind=Quiz.Kind.QUICK_QUIZ)
    with CaptureQueriesContext(connection) as few:
        web.get(f"/quizzes/attempts/{one.pk}/")
    assert len(many) == len(few)
    assert len(many) <= 6


def test_another_learners_attempt_page_is_a_404(other_learner, practice_quiz, web):
    web.post(f"/quizzes/{practice_quiz.slug}/start/")
    attempt = Attempt.objects.get()
    intruder = Client()
    intruder.force_login(other_learner)
    assert intruder.get(f"/quizzes/attempts/{attempt.pk}/").status_code == 404
    assert Item.objects.exists()


def test_a_quiz_page_starts_or_continues_it(client, learner, practice_quiz):
    """Where an LMS link or a bookmark lands: one quiz, with Start, then Continue."""
    url = f"/quizzes/{practice_quiz.slug}/"
    anonymous = client.get(url).content.decode()
    assert practice_quiz.title in anonymous
    assert "Log in to start" in anonymous
    client.force_login(learner)
    page = client.get(url).content.decode()
    assert 'id="quiz-start"' in page
    assert f'action="/quizzes/{practice_quiz.slug}/start/"' in page
    started = client.post(f"/quizzes/{practice_quiz.slug}/start/")
    page = client.get(url).content.decode()
    assert 'id="quiz-continue"' in page
    assert f'href="{started["Location"]}"' in page
    index = client.get("/quizzes/").content.decode()  # the same attempts table, with the quiz column
    assert '<th scope="col">Quiz</th>' in index
    assert f'<a href="{started["Location"]}">Continue</a>' in index
    assert client.get("/quizzes/no-such-quiz/").status_code == 404
