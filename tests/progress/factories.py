"""Test data for progress: the catalog, quiz items and attempts, labs and graded submissions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.assessments.models import Attempt, AttemptItem, Item, Quiz, SelfRating
from mlrange.catalog.models import Level, PathStage, RedFlag, SubSkill
from mlrange.labs.models import Lab, Submission

LEVELS = (
    ("beginner", "Beginner"),
    ("intermediate", "Intermediate"),
    ("advanced", "Advanced"),
    ("expert", "Expert"),
)
SUBSKILLS = (
    ("model-security", "Model Security and Robustness", 30),
    ("data-security", "Data Security and Integrity", 20),
    ("infrastructure-security", "Infrastructure Security", 20),
    ("privacy-preserving-ml", "Privacy-Preserving Machine Learning", 15),
    ("threat-modeling", "Threat Modeling for AI Systems", 15),
)
RED_FLAGS = (
    ("cannot-name-attack-vectors", "Unable to name common AI attack vectors.", "threat-modeling"),
    ("no-security-tooling", "No experience with security tools like ART.", "model-security"),
    ("ignores-privacy-regulations", "Ignores privacy regulations.", "data-security"),
    (
        "no-input-validation-or-monitoring",
        "Deploys models without input validation or monitoring for malicious inputs.",
        "infrastructure-security",
    ),
    ("weak-deployment-practices", "Lacks secure deployment practices.", "infrastructure-security"),
)
_seq = itertools.count(1)


def make_catalog() -> dict[str, object]:
    """Levels, the five sub-skills, the three path stages and the guide's red flags."""
    levels = {
        slug: Level.objects.get_or_create(slug=slug, defaults={"name": name, "order": i, "summary": name})[0]
        for i, (slug, name) in enumerate(LEVELS, start=1)
    }
    subskills = {
        slug: SubSkill.objects.get_or_create(
            slug=slug, defaults={"name": name, "order": i, "description": name, "weight": weight}
        )[0]
        for i, (slug, name, weight) in enumerate(SUBSKILLS, start=1)
    }
    for order, (slug, title, level, deliverables) in enumerate(
        (
            ("foundations", "Foundations", "beginner", ["A threat report.", "A secured notebook."]),
            ("implementation", "Implementation", "intermediate", ["A robust classifier."]),
            ("advanced-practice", "Advanced", "advanced", ["A threat model."]),
        ),
        start=1,
    ):
        PathStage.objects.get_or_create(
            slug=slug,
            defaults={
                "order": order,
                "title": title,
                "level": levels[level],
                "summary": title,
                "deliverables": deliverables,
            },
        )
    for order, (slug, text, subskill) in enumerate(RED_FLAGS, start=1):
        RedFlag.objects.get_or_create(
            slug=slug,
            defaults={"order": order, "text": text, "subskill": subskills[subskill], "remedy": "Practise."},
        )
    return {"levels": levels, "subskills": subskills}


def make_item(
    subskill: str, *, a: float = 1.0, b: float = 0.0, references: Sequence[dict[str, str]] = (), key: str = ""
) -> Item:
    n = next(_seq)
    return Item.objects.create(
        key=key or f"it-{n:05d}",
        subskill=SubSkill.objects.get(slug=subskill),
        level=Level.objects.get(slug="intermediate"),
        type=Item.Type.SINGLE,
        stem=f"Question {n}?",
        options=[{"id": "a", "text": "A", "why": ""}, {"id": "b", "text": "B", "why": ""}],
        answer="a",
        explanation="Because.",
        references=list(references),
        irt_a=a,
        irt_b=b,
        initial_irt_a=a,
        initial_irt_b=b,
    )


def make_quiz(kind: str = Quiz.Kind.PRACTICE, subskill: str | None = None, slug: str = "") -> Quiz:
    n = next(_seq)
    return Quiz.objects.create(
        slug=slug or f"quiz-{n}",
        kind=kind,
        title=f"{kind} quiz {n}",
        subskill=SubSkill.objects.get(slug=subskill) if subskill else None,
    )


def make_attempt(
    learner: User,
    quiz: Quiz,
    answers: Sequence[tuple[Item, float]],
    *,
    at: datetime | None = None,
    status: str = Attempt.Status.SUBMITTED,
) -> Attempt:
    """A graded attempt with one scored AttemptItem per (item, score)."""
    at = at or timezone.now()
    attempt = Attempt.objects.create(
        learner=learner,
        quiz=quiz,
        status=status,
        seed=1,
        submitted_at=at if status != Attempt.Status.OPEN else None,
    )
    AttemptItem.objects.bulk_create(
        AttemptItem(
            attempt=attempt,
            item=item,
            position=i,
            response="a" if score >= 1 else "b",
            score=score,
            answered_at=at - timedelta(seconds=len(answers) - i),
        )
        for i, (item, score) in enumerate(answers, start=1)
    )
    return attempt


def make_self_check(
    learner: User, ratings: Sequence[tuple[Sequence[str], int]], *, at: datetime | None = None
) -> Attempt:
    quiz = Quiz.objects.filter(kind=Quiz.Kind.SELF_CHECK).first() or make_quiz(
        Quiz.Kind.SELF_CHECK, slug="self-check"
    )
    attempt = make_attempt(learner, quiz, [], at=at)
    for i, (subskills, confidence) in enumerate(ratings, start=1):
        SelfRating.objects.create(
            attempt=attempt,
            question_key=f"q{i}",
            question_text=f"Question {i}?",
            subskills=list(subskills),
            confidence=confidence,
        )
    return attempt


def make_lab(
    subskill: str = "model-security",
    level: str = "intermediate",
    *,
    atlas: Sequence[str] = (),
    owasp: Sequence[str] = (),
    slug: str = "",
) -> Lab:
    n = next(_seq)
    return Lab.objects.create(
        slug=slug or f"lab-{n}",
        title=f"Lab {n}",
        summary="A lab.",
        subskill=SubSkill.objects.get(slug=subskill),
        level=Level.objects.get(slug=level),
        atlas=list(atlas),
        owasp=list(owasp),
        pass_points=100,
        max_points=100,
    )


def make_submission(
    learner: User,
    lab: Lab,
    *,
    fractions: Sequence[float] = (1.0, 1.0),
    at: datetime | None = None,
    graded: bool = True,
) -> Submission:
    """A grade-mode submission; graded with the given per-check point fractions, written
    with queryset.update() as the labs worker does (no post_save signal)."""
    submission = Submission.objects.create(
        learner=learner, lab=lab, mode=Submission.Mode.GRADE, cells=["pass"]
    )
    if graded:
        grade_submission(submission, fractions=fractions, at=at)
        submission.refresh_from_db()
    return submission


def grade_submission(
    submission: Submission, *, fractions: Sequence[float], at: datetime | None = None
) -> None:
    at = at or timezone.now()
    checks = [
        {
            "id": f"check-{i}",
            "title": f"Check {i}",
            "passed": fraction >= 1.0,
            "points": 50 * fraction,
            "max_points": 50,
            "feedback": "",
        }
        for i, fraction in enumerate(fractions)
    ]
    score = 100 * sum(fractions) / len(fractions) if fractions else 0.0
    passed = all(f >= 1.0 for f in fractions)
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.PASSED if passed else Submission.Status.FAILED,
        score=score,
        passed=passed,
        checks=checks,
        finished_at=at,
    )
