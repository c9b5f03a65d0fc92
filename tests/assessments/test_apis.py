"""The assessments API: shapes, owner-only access, no answer keys while open, 4xx messages."""

import json

import pytest
from rest_framework.test import APIClient

from mlrange.assessments.models import AttemptItem, Item


@pytest.fixture
def started(learner_client, practice_quiz):
    response = learner_client.post(f"/api/v1/quizzes/{practice_quiz.slug}/attempts/")
    assert response.status_code == 201
    return response.json()


def test_quiz_list_lists_published_quizzes(api_client, bank):
    response = api_client.get("/api/v1/quizzes/")
    assert response.status_code == 200
    slugs = [quiz["slug"] for quiz in response.json()]
    assert {"placement", "self-check", "quick-quiz", "practice-model-security"} <= set(slugs)


def test_open_attempt_never_shows_keys_whys_or_explanations(learner_client, started):
    body = learner_client.get(f"/api/v1/attempts/{started['id']}/").content.decode()
    for item in Item.objects.all():
        assert item.explanation.strip()[:30] not in body
        for option in item.options:
            assert option["why"] not in body
    assert "FIXTURE-EXPLANATION" not in body
    for question in json.loads(body)["questions"]:
        assert set(question) == {
            "item",
            "position",
            "type",
            "subskill",
            "subskill_name",
            "stem",
            "options",
            "answered",
            "response",
        }
        assert all(set(option) == {"id", "text"} for option in question["options"])


def test_answer_then_submit_returns_score_estimate_and_review(learner_client, started):
    url = f"/api/v1/attempts/{started['id']}/"
    answer = learner_client.post(url + "answers/", {"item": "ms-b-001", "response": "a"}, format="json")
    assert answer.status_code == 201
    assert answer.json()["recorded"] is True
    submitted = learner_client.post(url + "submit/")
    assert submitted.status_code == 200
    data = submitted.json()
    assert data["results"]["score"]["points"] == 1.0
    assert data["results"]["subskills"][0]["slug"] == "model-security"
    review = {r["item"]: r for r in data["review"]}
    assert review["ms-b-001"]["answer"] == "a"
    assert "FIXTURE-EXPLANATION-MS-B-001" in review["ms-b-001"]["explanation"]
    assert review["ms-b-001"]["references"][0] == {"atlas": "AML.T0015", "name": "Evade AI Model"}


def test_another_learners_attempt_is_a_404(other_learner, started):
    client = APIClient()
    client.force_authenticate(other_learner)
    url = f"/api/v1/attempts/{started['id']}/"
    assert client.get(url).status_code == 404
    assert (
        client.post(url + "answers/", {"item": "ms-b-001", "response": "a"}, format="json").status_code == 404
    )
    assert client.post(url + "submit/").status_code == 404
    assert not AttemptItem.objects.filter(answered_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"item": "ds-b-001", "response": True}, 400, "not a question of this attempt"),
        ({"item": "ms-a-002", "response": "zero"}, 400, "Send a number"),
        ({"item": "ms-b-001"}, 400, "Send either {item, response}"),
        ({"question": "self-check-1", "confidence": 3}, 400, "Only self-check attempts"),
    ],
)
def test_bad_answers_are_4xx_with_a_message_and_record_nothing(
    learner_client, started, body, status, fragment
):
    response = learner_client.post(f"/api/v1/attempts/{started['id']}/answers/", body, format="json")
    assert response.status_code == status
    assert fragment in json.dumps(response.json())
    assert not AttemptItem.objects.filter(answered_at__isnull=False).exists()


def test_double_answer_and_double_submit_are_409(learner_client, started):
    url = f"/api/v1/attempts/{started['id']}/"
    learner_client.post(url + "answers/", {"item": "ms-a-001", "response": True}, format="json")
    again = learner_client.post(url + "answers/", {"item": "ms-a-001", "response": False}, format="json")
    assert again.status_code == 409
    assert "already answered" in again.json()["detail"]
    assert learner_client.post(url + "submit/").status_code == 200
    second = learner_client.post(url + "submit/")
    assert second.status_code == 409
    assert "already submitted" in second.json()["detail"]


def test_placement_answer_returns_the_next_item_or_finished(learner_client, placement_quiz):
    started = learner_client.post("/api/v1/quizzes/placement/attempts/").json()
    current = started["questions"][0]
    item = Item.objects.get(key=current["item"])
    response = item.answer["value"] if item.type == "numeric" else item.answer
    body = learner_client.post(
        f"/api/v1/attempts/{started['id']}/answers/",
        {"item": item.key, "response": response},
        format="json",
    ).json()
    assert body["finished"] is False
    assert body["next"]["item"] != item.key
    assert "answer" not in body["next"]


def test_starting_needs_authentication(api_client, bank):
    assert api_client.post("/api/v1/quizzes/placement/attempts/").status_code in (401, 403)


def test_schema_describes_the_assessment_endpoints(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/quizzes/",
        "/api/v1/quizzes/{slug}/attempts/",
        "/api/v1/attempts/{attempt_id}/",
        "/api/v1/attempts/{attempt_id}/answers/",
        "/api/v1/attempts/{attempt_id}/submit/",
    ):
        assert path in schema["paths"], path


def test_answers_are_throttled_per_learner_with_a_429_that_says_when(learner_client, started, monkeypatch):
    from mlrange.common.throttling import ScopedThrottle

    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"answers": "2/min"})
    url = f"/api/v1/attempts/{started['id']}/answers/"
    statuses = [
        learner_client.post(url, {"item": item, "response": "a"}, format="json").status_code
        for item in ("ms-b-001", "ms-b-002")
    ]
    throttled = learner_client.post(url, {"item": "ms-a-001", "response": True}, format="json")
    assert 429 not in statuses
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith("Request was throttled.")
    assert int(throttled["Retry-After"]) == throttled.json()["retry_after_seconds"] > 0
