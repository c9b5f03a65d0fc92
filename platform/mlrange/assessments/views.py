"""Pages of mlrange.assessments: quiz list, taking an attempt with plain forms, results.

Every page works without JavaScript. Placement shows one question at a time; practice and
quick quizzes one form with every question; the self-check a confidence scale per question.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mlrange.accounts.models import User
from mlrange.assessments import selectors, services
from mlrange.assessments.models import Attempt, Quiz
from mlrange.assessments.selfcheck import CONFIDENCE_LABELS
from mlrange.common.exceptions import ApplicationError


class FormResponseError(ValueError):
    """A form field that cannot be turned into a response."""


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 -- login_required guarantees an authenticated User
    return user


def quiz_index(request: HttpRequest) -> HttpResponse:
    """Public list of quizzes; a visitor is asked to log in when starting one."""
    attempts = (
        selectors.attempt_list_for_learner(learner=_user(request)) if request.user.is_authenticated else []
    )
    return render(
        request,
        "assessments/index.html",
        {"quizzes": list(selectors.quiz_list_published()), "attempts": attempts},
    )


def quiz_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One quiz: what it is, and Start or Continue (where an LMS link or a bookmark lands)."""
    quiz = selectors.quiz_get_published(slug=slug)
    attempts = (
        selectors.attempt_list_for_learner(learner=_user(request), quiz=quiz)
        if request.user.is_authenticated
        else []
    )
    current = next((a for a in attempts if a.is_open), None)
    return render(
        request, "assessments/detail.html", {"quiz": quiz, "attempts": attempts, "current": current}
    )


@login_required
@require_POST
def attempt_start(request: HttpRequest, slug: str) -> HttpResponse:
    quiz = selectors.quiz_get_published(slug=slug)
    try:
        attempt, _ = services.attempt_start(learner=_user(request), quiz=quiz)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("assessments:index")
    return redirect("assessments:attempt", attempt_id=attempt.pk)


def _form_response(question: dict[str, Any], data: Any) -> Any:  # noqa: PLR0911 -- one return per item type
    """The response a form posted for one question; None if left blank."""
    name = f"item-{question['item']}"
    kind = question["type"]
    if kind == "multiple":
        chosen = data.getlist(name)
        return chosen if chosen or data.get(f"{name}-shown") else None
    if kind == "ordering":
        positions: dict[str, int] = {}
        for option in question["options"]:
            raw = (data.get(f"{name}-{option['id']}") or "").strip()
            if not raw:
                return None
            try:
                positions[option["id"]] = int(raw)
            except ValueError as exc:
                raise FormResponseError(
                    f"Question {question['position']}: give each step a position number."
                ) from exc
        if len(set(positions.values())) != len(positions):
            raise FormResponseError(f"Question {question['position']}: give each step a different position.")
        return sorted(positions, key=lambda oid: positions[oid])
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    if kind == "true_false":
        return raw == "true"
    if kind == "numeric":
        try:
            return float(raw)
        except ValueError as exc:
            raise FormResponseError(f"Question {question['position']}: enter a number, e.g. 0.25.") from exc
    return raw


def _attempt_for(request: HttpRequest, attempt_id: int) -> Attempt:
    return selectors.attempt_get_for_learner(attempt_id=attempt_id, learner=_user(request))


@login_required
@require_http_methods(["GET", "POST"])
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    if not attempt.is_open:
        return redirect("assessments:results", attempt_id=attempt.pk)
    payload = selectors.attempt_payload(attempt=attempt)
    if request.method == "POST":
        return _attempt_post(request, attempt, payload)
    kind = attempt.quiz.kind
    current = selectors.current_placement_question(payload) if kind == Quiz.Kind.PLACEMENT else None
    settings = attempt.quiz.settings
    cap = int(settings.get("max_items_per_subskill", 15)) * 5
    return render(
        request,
        "assessments/attempt.html",
        {
            "attempt": attempt,
            "payload": payload,
            "current": current,
            "max_questions": cap,
            "confidence_labels": sorted(CONFIDENCE_LABELS.items()),
        },
    )


def _attempt_post(request: HttpRequest, attempt: Attempt, payload: dict[str, Any]) -> HttpResponse:
    kind = attempt.quiz.kind
    try:
        if kind == Quiz.Kind.PLACEMENT:
            current = selectors.current_placement_question(payload)
            response = _form_response(current, request.POST) if current else None
            if current is None or response is None:
                raise FormResponseError("Choose or enter an answer before you continue.")
            outcome = services.attempt_answer(attempt=attempt, item_key=current["item"], response=response)
            if outcome.finished:
                services.attempt_submit(attempt=attempt)
                return redirect("assessments:results", attempt_id=attempt.pk)
            return redirect("assessments:attempt", attempt_id=attempt.pk)
        if kind == Quiz.Kind.SELF_CHECK:
            ratings = {}
            for question in payload["self_check"]:
                raw = request.POST.get(f"rating-{question['question']}")
                if raw and question["confidence"] is None:
                    ratings[question["question"]] = int(raw)
            services.attempt_submit(attempt=attempt, ratings=ratings)
        else:
            responses = {}
            for question in payload["questions"]:
                if question["answered"]:
                    continue
                value = _form_response(question, request.POST)
                if value is not None:
                    responses[question["item"]] = value
            services.attempt_submit(attempt=attempt, responses=responses)
    except (ApplicationError, FormResponseError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("assessments:attempt", attempt_id=attempt.pk)
    except ValueError:
        messages.error(request, "Choose a confidence from 1 to 5.")
        return redirect("assessments:attempt", attempt_id=attempt.pk)
    return redirect("assessments:results", attempt_id=attempt.pk)


@login_required
@require_POST
def attempt_finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    try:
        services.attempt_submit(attempt=attempt)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("assessments:results", attempt_id=attempt.pk)


@login_required
def attempt_results(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _attempt_for(request, attempt_id)
    if attempt.is_open:
        return redirect("assessments:attempt", attempt_id=attempt.pk)
    payload = selectors.attempt_payload(attempt=attempt)
    results = payload["results"]
    comparison = []
    if attempt.quiz.kind != Quiz.Kind.SELF_CHECK:
        self_check = selectors.self_check_latest(learner=_user(request))
        assessed = {e["slug"]: e for e in (self_check.results.get("self_assessed", []) if self_check else [])}
        for entry in results.get("subskills", []):
            mine = assessed.get(entry["slug"])
            comparison.append(
                {
                    "name": entry["name"],
                    "measured": entry["level_name"],
                    "self": mine["level_name"] if mine else None,
                    "agrees": mine is not None and mine["level"] == entry["level"],
                }
            )
    return render(
        request,
        "assessments/results.html",
        {"attempt": attempt, "payload": payload, "results": results, "comparison": comparison},
    )
