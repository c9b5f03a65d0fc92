"""Attempt services: start, answer, submit, placement, expiry; nothing recorded twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.assessments import selectors, services
from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz, SelfRating
from mlrange.common.exceptions import ApplicationError


def _answered(attempt):
    return AttemptItem.objects.filter(attempt=attempt, answered_at__isnull=False).count()


def test_practice_attempt_serves_items_stratified_over_levels(learner, practice_quiz):
    attempt, created = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    assert created
    levels = {ai.item.level.slug for ai in attempt.attempt_items.select_related("item__level")}
    assert levels == {"beginner", "intermediate", "advanced", "expert"}
    assert attempt.attempt_items.count() == 6


def test_option_order_is_a_stored_permutation_per_attempt(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=5)
    row = attempt.attempt_items.get(item__key="ms-i-001")
    assert sorted(row.option_order) == ["a", "b", "c", "d"]


def test_answer_is_scored_server_side(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    outcome = services.attempt_answer(attempt=attempt, item_key="ms-i-001", response=["a"])
    assert outcome.attempt_item.score == 0.5


def test_second_answer_to_the_same_item_is_a_409_and_changes_nothing(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    services.attempt_answer(attempt=attempt, item_key="ms-b-001", response="a")
    with pytest.raises(services.AttemptConflictError, match="already answered"):
        services.attempt_answer(attempt=attempt, item_key="ms-b-001", response="b")
    assert AttemptItem.objects.get(attempt=attempt, item__key="ms-b-001").response == "a"


def test_answer_to_an_item_not_in_the_attempt_is_rejected(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    with pytest.raises(ApplicationError, match="not a question of this attempt"):
        services.attempt_answer(attempt=attempt, item_key="ds-b-001", response=True)
    assert _answered(attempt) == 0


def test_malformed_response_is_rejected_and_nothing_recorded(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    with pytest.raises(ApplicationError, match=r"ms-e-001: Send every option id exactly once"):
        services.attempt_answer(attempt=attempt, item_key="ms-e-001", response=["a", "b"])
    assert _answered(attempt) == 0


def test_answer_after_the_deadline_is_rejected(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError, match="time limit"):
        services.attempt_answer(attempt=attempt, item_key="ms-b-001", response="a")
    assert _answered(attempt) == 0


def test_submit_past_the_deadline_closes_as_expired(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    services.attempt_answer(attempt=attempt, item_key="ms-b-001", response="a")
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    attempt = services.attempt_submit(attempt=attempt)
    assert attempt.status == Attempt.Status.EXPIRED
    assert attempt.results["score"]["points"] == 1.0


def test_expire_overdue_closes_only_overdue_open_attempts(learner, practice_quiz, other_learner):
    late, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    on_time, _ = services.attempt_start(learner=other_learner, quiz=practice_quiz, seed=2)
    Attempt.objects.filter(pk=late.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert services.attempts_expire_overdue() == 1
    assert services.attempts_expire_overdue() == 0
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.status, on_time.status) == (Attempt.Status.EXPIRED, Attempt.Status.OPEN)


def test_second_submit_is_a_409(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    services.attempt_submit(attempt=attempt)
    with pytest.raises(services.AttemptConflictError) as exc:
        services.attempt_submit(attempt=attempt)
    assert exc.value.status_code == 409


def test_submit_results_have_score_estimate_feedback_and_study_next(learner, practice_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=practice_quiz, seed=1)
    attempt = services.attempt_submit(
        attempt=attempt,
        responses={"ms-b-001": "a", "ms-i-001": ["a", "b"], "ms-a-001": True, "ms-a-002": 0.0314},
    )
    results = attempt.results
    assert results["score"] == {"points": 4.0, "max": 6, "percent": 66.7}
    (estimate,) = results["subskills"]
    assert estimate["slug"] == "model-security"
    assert estimate["level"] in {"intermediate", "advanced", "expert"}
    assert 0 < estimate["confidence"] <= 1
    assert results["study_next"][0]["url"] == selectors.subskill_url("model-security")
    assert "pgd" in results["study_next"][0]["missed_topics"]


def test_starting_again_resumes_the_open_attempt(learner, practice_quiz):
    first, _ = services.attempt_start(learner=learner, quiz=practice_quiz)
    again, created = services.attempt_start(learner=learner, quiz=practice_quiz)
    assert (again.pk, created) == (first.pk, False)


def test_quick_quiz_uses_items_linked_to_the_guide_quiz(learner, bank):
    attempt, _ = services.attempt_start(learner=learner, quiz=Quiz.objects.get(slug="quick-quiz"))
    assert [ai.item.key for ai in attempt.attempt_items.all()] == ["ms-b-001"]


def test_placement_serves_one_item_then_the_next_until_finished(learner, placement_quiz):
    attempt, _ = services.attempt_start(learner=learner, quiz=placement_quiz, seed=3)
    assert attempt.attempt_items.count() == 1
    served = set()
    for _ in range(20):
        row = attempt.attempt_items.filter(answered_at__isnull=True).select_related("item").first()
        if row is None:
            break
        served.add(row.item.key)
        item = row.item
        response = item.answer["value"] if item.type == "numeric" else item.answer
        outcome = services.attempt_answer(attempt=attempt, item_key=item.key, response=response)
        if outcome.finished:
            break
    assert outcome.finished
    assert 4 <= len(served) <= 9  # min_items of a sub-skill at least; the fixture bank at most
    attempt = services.attempt_submit(attempt=attempt)
    levels = {e["slug"]: e["level"] for e in attempt.results["subskills"]}
    assert levels["model-security"] in {"advanced", "expert"}


def test_placement_first_item_is_the_most_informative_with_exposure_control_off(learner, placement_quiz):
    placement_quiz.settings = {**placement_quiz.settings, "exposure_top_k": 1}
    placement_quiz.save()
    attempt, _ = services.attempt_start(learner=learner, quiz=placement_quiz, seed=11)
    # At theta = 0 the model-security item with most information is ms-i-001 (a=1.2, b=-0.5).
    assert attempt.attempt_items.get().item.key == "ms-i-001"


def test_exposure_control_spreads_first_items_across_learners(placement_quiz):
    first_items = set()
    for n in range(30):
        attempt, _ = services.attempt_start(
            learner=User.objects.create(username=f"p{n}"), quiz=placement_quiz
        )
        first_items.add(attempt.attempt_items.get().item.key)
    assert len(first_items) >= 3


def _earlier_placements_serving(quiz, item_key, n):
    item = Item.objects.get(key=item_key)
    for k in range(n):
        attempt = Attempt.objects.create(learner=User.objects.create(username=f"e{k}"), quiz=quiz, seed=k)
        AttemptItem.objects.create(attempt=attempt, item=item, position=1)


def test_an_item_served_to_most_recent_placements_is_held_back(learner, placement_quiz):
    placement_quiz.settings = {**placement_quiz.settings, "exposure_top_k": 1}
    placement_quiz.save()
    _earlier_placements_serving(placement_quiz, "ms-i-001", 30)  # the most informative first item
    attempt, _ = services.attempt_start(learner=learner, quiz=placement_quiz, seed=11)
    first = attempt.attempt_items.get().item
    assert first.key != "ms-i-001"
    assert first.subskill.slug == "model-security"


def test_exposure_rates_from_too_few_placements_hold_nothing_back(learner, placement_quiz):
    placement_quiz.settings = {**placement_quiz.settings, "exposure_top_k": 1}
    placement_quiz.save()
    _earlier_placements_serving(placement_quiz, "ms-i-001", 29)
    attempt, _ = services.attempt_start(learner=learner, quiz=placement_quiz, seed=11)
    assert attempt.attempt_items.get().item.key == "ms-i-001"
    assert selectors.placement_exposure(before=attempt) == {}


def test_self_check_ratings_give_a_self_assessed_level(learner, bank):
    attempt, _ = services.attempt_start(learner=learner, quiz=Quiz.objects.get(slug="self-check"))
    services.self_rating_record(attempt=attempt, question_key="self-check-3", confidence=5)
    attempt = services.attempt_submit(attempt=attempt, ratings={"self-check-7": 4})
    entry = next(e for e in attempt.results["self_assessed"] if e["slug"] == "threat-modeling")
    assert (entry["mean_confidence"], entry["level"]) == (4.5, "expert")


def test_self_check_rating_twice_is_a_409(learner, bank):
    attempt, _ = services.attempt_start(learner=learner, quiz=Quiz.objects.get(slug="self-check"))
    services.self_rating_record(attempt=attempt, question_key="self-check-1", confidence=2)
    with pytest.raises(services.AttemptConflictError):
        services.self_rating_record(attempt=attempt, question_key="self-check-1", confidence=3)
    assert SelfRating.objects.get(attempt=attempt).confidence == 2
