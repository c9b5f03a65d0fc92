"""Two pools: placement keys are never shown, practice retakes meet other questions.

A learner who could read placement keys (in a placement review, or in a practice review of
the same items) could place themselves anywhere; a practice retake that served the same ten
questions again would teach nothing new.
"""

import json
import shutil
from pathlib import Path

import pytest

from mlrange.accounts.models import User
from mlrange.assessments import services
from mlrange.assessments.bank import PRACTICE_EVERY, read_bank
from mlrange.assessments.content import load_questions
from mlrange.assessments.models import AttemptItem, Item, Quiz
from tests.assessments.conftest import FIXTURES

REAL_BANK = Path(__file__).resolve().parents[2] / "curriculum" / "questions"


def _right_answer(item: Item):
    return item.answer["value"] if item.type == "numeric" else item.answer


def test_the_real_bank_splits_every_subskill_and_level_into_both_pools():
    items, problems = read_bank(REAL_BANK)
    assert problems == []
    assert {item.pool for item in items} == {"placement", "practice"}
    assert all(item.pool == "practice" for item in items if item.source)  # answered in the guide
    groups: dict[tuple[str, str], list[str]] = {}
    for item in items:
        if not item.source:
            groups.setdefault((item.subskill, item.level), []).append(item.pool)
    for key, pools in groups.items():
        assert pools.count("practice") == len(pools) // PRACTICE_EVERY, key
        assert pools.count("placement") >= 3, key  # enough to place at every level


def test_a_pool_in_the_file_wins_and_a_guide_item_cannot_be_placement(tmp_path):
    root = tmp_path / "curriculum"
    shutil.copytree(FIXTURES / "good", root)
    path = root / "questions" / "model-security.yaml"
    text = path.read_text()
    text = text.replace(
        "  - id: ms-i-001\n    level: intermediate\n",
        "  - id: ms-i-001\n    level: intermediate\n    pool: practice\n",
    )
    path.write_text(text)
    items, problems = read_bank(root / "questions")
    assert problems == []
    assert next(i for i in items if i.id == "ms-i-001").pool == "practice"

    path.write_text(
        text.replace("    source: quick-quiz-1\n", "    source: quick-quiz-1\n    pool: placement\n")
    )
    _, problems = read_bank(root / "questions")
    assert any("ms-b-001" in p.field and "can only practise" in p.message for p in problems)
    path.write_text(text.replace("    pool: practice\n", "    pool: secret\n"))
    _, problems = read_bank(root / "questions")
    assert any("'secret' is not one of placement, practice" in str(p) for p in problems)


def test_an_item_once_practice_never_returns_to_placement(catalog, tmp_path):
    root = tmp_path / "curriculum"
    shutil.copytree(FIXTURES / "good", root)
    path = root / "questions" / "model-security.yaml"
    original = path.read_text()
    path.write_text(
        original.replace(
            "  - id: ms-i-001\n    level: intermediate\n",
            "  - id: ms-i-001\n    level: intermediate\n    pool: practice\n",
        )
    )
    load_questions(root)
    assert Item.objects.get(key="ms-i-001").pool == Item.Pool.PRACTICE
    path.write_text(original)  # the file now says placement (by the split): the key was shown already
    load_questions(root)
    assert Item.objects.get(key="ms-i-001").pool == Item.Pool.PRACTICE


def test_placement_never_serves_a_practice_item_and_practice_never_a_placement_item(learner, bank):
    practice_keys = set(Item.objects.filter(pool=Item.Pool.PRACTICE).values_list("key", flat=True))
    assert practice_keys  # the fixture's guide item ms-b-001 at least
    placement = Quiz.objects.get(slug="placement")
    served = set()
    attempt, _ = services.attempt_start(learner=learner, quiz=placement, seed=3)
    while True:
        row = attempt.attempt_items.filter(answered_at__isnull=True).select_related("item").first()
        if row is None:
            break
        served.add(row.item.key)
        outcome = services.attempt_answer(
            attempt=attempt, item_key=row.item.key, response=_right_answer(row.item)
        )
        if outcome.finished:
            break
    assert served
    assert not served & practice_keys

    practice = Quiz.objects.get(slug="practice-model-security")
    attempt, _ = services.attempt_start(learner=learner, quiz=practice, seed=3)
    pools = set(attempt.attempt_items.values_list("item__pool", flat=True))
    assert pools == {Item.Pool.PRACTICE}


def test_a_submitted_placement_shows_no_key_why_score_or_explanation(learner_client, learner, client, bank):
    started = learner_client.post("/api/v1/quizzes/placement/attempts/").json()
    url = f"/api/v1/attempts/{started['id']}/"
    keys = []
    current = started["questions"][0]
    for _ in range(3):
        item = Item.objects.get(key=current["item"])
        keys.append(item)
        body = learner_client.post(
            url + "answers/", {"item": item.key, "response": _right_answer(item)}, format="json"
        ).json()
        if body["finished"]:
            break
        current = body["next"]
    submitted = learner_client.post(url + "submit/")
    assert submitted.status_code == 200
    for response in (submitted, learner_client.get(url)):
        data = response.json()
        assert data["status"] == "submitted"
        assert data["review"], "the learner still sees which questions were asked"
        text = json.dumps(data)
        for item in keys:
            assert item.explanation.strip()[:30] not in text
            for option in item.options:
                assert option["why"] not in text
        for review in data["review"]:
            assert review["key_withheld"] is True
            assert review["answer"] is None
            assert review["score"] is None
            assert review["explanation"] == ""
            for option in review["options"]:  # the schema's nullable correct_position stays, empty
                assert set(option) <= {"id", "text", "correct_position"}, option
                assert option.get("correct_position") is None
        assert data["results"]["subskills"], "the placement still reports levels"

    client.force_login(learner)
    page = client.get(f"/quizzes/attempts/{started['id']}/results/").content.decode()
    assert "placement-keys-note" in page
    assert "Correct answer" not in page
    assert "FIXTURE-EXPLANATION" not in page


def test_practice_review_still_explains_every_answer(learner_client, practice_quiz):
    started = learner_client.post(f"/api/v1/quizzes/{practice_quiz.slug}/attempts/").json()
    data = learner_client.post(f"/api/v1/attempts/{started['id']}/submit/").json()
    assert data["review"]
    assert all(review["key_withheld"] is False and review["answer"] is not None for review in data["review"])


def test_practice_retakes_meet_unseen_questions_before_any_repeat(catalog, tmp_path):
    load_questions(FIXTURES / "good")
    Item.objects.filter(subskill__slug="model-security").update(pool=Item.Pool.PRACTICE)
    quiz = Quiz.objects.get(slug="practice-model-security")
    quiz.settings = {"item_count": 2}
    quiz.save()
    learner = User.objects.create(username="retaker")
    seen: list[str] = []
    for seed in range(3):  # 3 attempts of 2 items over a pool of 6: every item once
        attempt, _ = services.attempt_start(learner=learner, quiz=quiz, seed=seed)
        seen += list(attempt.attempt_items.values_list("item__key", flat=True))
        services.attempt_submit(attempt=attempt)
    assert len(seen) == 6
    assert len(set(seen)) == 6

    attempt, _ = services.attempt_start(learner=learner, quiz=quiz, seed=9)  # pool spent: repeats allowed
    assert attempt.attempt_items.count() == 2
    other = User.objects.create(username="first-timer")  # another learner's history changes nothing
    attempt, _ = services.attempt_start(learner=other, quiz=quiz, seed=0)
    assert AttemptItem.objects.filter(attempt=attempt).count() == 2


@pytest.mark.parametrize("seed", [1, 2])
def test_the_first_practice_attempt_is_still_stratified_over_levels(learner, practice_quiz, seed):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=seed)
    levels = {ai.item.level.slug for ai in attempt.attempt_items.select_related("item__level")}
    assert levels == {"beginner", "intermediate", "advanced", "expert"}
