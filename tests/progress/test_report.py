"""Rules over the evidence: the path checklist, red flags, next steps, coverage, self-rating."""

from datetime import UTC, datetime, timedelta

from mlrange.progress.estimation import CheckResult, ItemResponse, LabResult
from mlrange.progress.report import (
    AttemptSummary,
    Content,
    Evidence,
    LabInfo,
    QuizInfo,
    RedFlagInfo,
    StageInfo,
    SubskillInfo,
    build_progress,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SUBSKILLS = (
    SubskillInfo("model-security", "Model Security", 1, 30),
    SubskillInfo("data-security", "Data Security", 2, 20),
    SubskillInfo("infrastructure-security", "Infrastructure Security", 3, 20),
    SubskillInfo("privacy-preserving-ml", "Privacy", 4, 15),
    SubskillInfo("threat-modeling", "Threat Modeling", 5, 15),
)
CONTENT = Content(
    subskills=SUBSKILLS,
    level_names={
        "beginner": "Beginner",
        "intermediate": "Intermediate",
        "advanced": "Advanced",
        "expert": "Expert",
    },
    labs=(
        LabInfo(
            "evasion",
            "Evasion",
            "model-security",
            "intermediate",
            ("AML.T0043.000",),
            ("ML01",),
            "/labs/evasion/",
        ),
        LabInfo("robust", "Robust", "model-security", "advanced", ("AML.M0003",), ("ML01",), "/labs/robust/"),
        LabInfo(
            "guard", "Input guard", "infrastructure-security", "intermediate", (), ("ML09",), "/labs/guard/"
        ),
    ),
    quizzes=(
        QuizInfo("self", "Self-check", "self_check", None, "/q/self/"),
        QuizInfo("placement", "Placement test", "placement", None, "/q/placement/"),
        QuizInfo("quick", "Quick quiz", "quick_quiz", None, "/q/quick/"),
        QuizInfo("practice-ds", "Data practice", "practice", "data-security", "/q/practice-ds/"),
        QuizInfo("practice-ms", "Model practice", "practice", "model-security", "/q/practice-ms/"),
    ),
    stages=(
        StageInfo("foundations", "Foundations", 1, "beginner", ("A threat report.",)),
        StageInfo("implementation", "Implementation", 2, "intermediate", ()),
    ),
    red_flags=(
        RedFlagInfo("cannot-name-attack-vectors", "Cannot name attack vectors.", "threat-modeling"),
        RedFlagInfo("no-security-tooling", "No security tooling.", "model-security"),
        RedFlagInfo(
            "no-input-validation-or-monitoring",
            "Deploys models without input validation or monitoring for malicious inputs.",
            "infrastructure-security",
        ),
    ),
    atlas_names={"AML.T0043.000": "White-Box Optimization"},
)


def attempt(attempt_id, kind, percent, *, subskill=None, status="submitted"):
    return AttemptSummary(
        id=attempt_id,
        quiz_slug=kind,
        quiz_title=kind,
        kind=kind,
        subskill=subskill,
        status=status,
        started_at=T0,
        submitted_at=T0 + timedelta(minutes=attempt_id),
        n_items=10,
        percent=percent,
    )


def lab_result(slug, subskill, level, passed, minutes=0):
    fraction = 1.0 if passed else 0.0
    return LabResult(
        f"sub-{slug}-{minutes}",
        slug,
        subskill,
        level,
        100.0 * fraction,
        passed,
        T0 + timedelta(minutes=minutes),
        (CheckResult("a", 50 * fraction, 50), CheckResult("b", 50 * fraction, 50)),
    )


def item(key, subskill, score, attempt_id=1):
    return ItemResponse(key, subskill, 1.0, 0.0, score, T0, attempt_id)


def report(**evidence):
    return build_progress(Evidence(**evidence), CONTENT, now=NOW)


def ticks(data, stage_order):
    stage = next(s for s in data["stages"] if s["order"] == stage_order)
    return {i["key"]: i["done"] for i in stage["items"]}


def test_a_new_learner_gets_first_steps_and_nothing_ticked():
    data = report()
    assert data["is_new"] is True
    assert [s["title"] for s in data["next_steps"]] == ["Self-check", "Placement test", "Evasion"]
    assert not any(ticks(data, 1).values())
    assert data["red_flags"] == []
    assert data["coverage"]["atlas"] == []
    assert data["coverage"]["owasp_count"] == 0


def test_checklist_ticks_the_quick_quiz_only_at_seventy_percent():
    assert ticks(report(attempts=(attempt(1, "quick_quiz", 0.6),)), 1)["quick-quiz-passed"] is False
    assert ticks(report(attempts=(attempt(1, "quick_quiz", 0.7),)), 1)["quick-quiz-passed"] is True


def test_checklist_ticks_placement_only_once_submitted():
    open_one = report(attempts=(attempt(1, "placement", None, status="open"),))
    done = report(attempts=(attempt(1, "placement", 0.4),))
    assert ticks(open_one, 1)["placement-done"] is False
    assert ticks(done, 1)["placement-done"] is True


def test_checklist_ticks_a_lab_only_when_passed():
    failed = report(lab_results=(lab_result("evasion", "model-security", "intermediate", False),))
    passed = report(lab_results=(lab_result("evasion", "model-security", "intermediate", True),))
    assert ticks(failed, 1)["first-lab-passed"] is False
    assert ticks(passed, 1)["first-lab-passed"] is True
    assert ticks(passed, 2)["labs-two-subskills"] is False


def test_checklist_ticks_practice_at_seventy_percent_and_deliverable_by_link():
    data = report(
        attempts=(attempt(1, "practice", 0.75, subskill="data-security"),),
        deliverable_links={("foundations", 0): "https://example.org/report"},
    )
    assert ticks(data, 2)["practice-passed"] is True
    assert ticks(data, 1)["deliverable-0"] is True
    assert data["stages"][0]["deliverables"][0]["url"] == "https://example.org/report"


def test_red_flag_shows_when_no_infrastructure_lab_is_passed_and_says_why():
    data = report(lab_results=(lab_result("evasion", "model-security", "intermediate", True),))
    flags = {f["slug"]: f for f in data["red_flags"]}
    assert flags["no-input-validation-or-monitoring"]["text"].startswith(
        "Deploys models without input validation"
    )
    assert flags["no-input-validation-or-monitoring"]["why"] == "No Infrastructure Security lab passed yet."
    assert "no-security-tooling" not in flags


def test_red_flag_clears_once_an_infrastructure_lab_is_passed():
    data = report(lab_results=(lab_result("guard", "infrastructure-security", "intermediate", True),))
    assert "no-input-validation-or-monitoring" not in {f["slug"] for f in data["red_flags"]}


def test_red_flag_for_attack_vectors_needs_three_answers_mostly_wrong():
    two_wrong = report(responses=(item("t1", "threat-modeling", 0.0), item("t2", "threat-modeling", 0.0)))
    three_wrong = report(
        responses=(
            *(item(f"t{i}", "threat-modeling", 0.0) for i in range(3)),
            item("t9", "threat-modeling", 1.0),
        )
    )
    assert "cannot-name-attack-vectors" not in {f["slug"] for f in two_wrong["red_flags"]}
    flag = next(f for f in three_wrong["red_flags"] if f["slug"] == "cannot-name-attack-vectors")
    assert flag["why"] == "1 of 4 Threat Modeling questions answered correctly."


def test_coverage_counts_passed_labs_and_correct_answers_only():
    data = report(
        lab_results=(
            lab_result("evasion", "model-security", "intermediate", True),
            lab_result("guard", "infrastructure-security", "intermediate", False),
        ),
        responses=(item("q1", "data-security", 1.0), item("q2", "data-security", 0.0)),
        item_references={
            "q1": [{"owasp": "ML02"}, {"atlas": "AML.T0020", "name": "Poison Training Data"}],
            "q2": [{"owasp": "ML03"}],
        },
    )
    cov = data["coverage"]
    practised = {o["id"] for o in cov["owasp"] if o["practised"]}
    assert practised == {"ML01", "ML02"}
    assert cov["owasp_count"] == 2
    assert [(a["id"], a["name"]) for a in cov["atlas"]] == [
        ("AML.T0020", "Poison Training Data"),
        ("AML.T0043.000", "White-Box Optimization"),
    ]
    assert next(o for o in cov["owasp"] if o["id"] == "ML01")["name"] == "Input Manipulation"


def test_next_steps_point_at_the_weakest_subskills_next_unpassed_lab_and_practice_quiz():
    data = report(
        attempts=(attempt(1, "placement", 0.5),),
        responses=tuple(item(f"m{i}", "model-security", 0.0) for i in range(4))
        + tuple(item(f"d{i}", "data-security", 1.0) for i in range(4))
        + tuple(item(f"x{i}", s.slug, 1.0) for i, s in enumerate(SUBSKILLS[2:])),
        lab_results=(lab_result("evasion", "model-security", "intermediate", True),),
    )
    assert [(s["title"], s["url"]) for s in data["next_steps"]] == [
        ("Robust", "/labs/robust/"),
        ("Model practice", "/q/practice-ms/"),
    ]
    assert "Model Security" in data["next_steps"][0]["reason"]


def test_self_assessment_is_shown_beside_the_estimate_and_not_mixed_in():
    evidence = {"responses": (item("m1", "model-security", 0.0),)}
    without = report(**evidence)
    rated = report(**evidence, self_ratings=((("model-security",), 5), (("model-security",), 4)))
    ms_without = without["subskills"][0]
    ms_rated = rated["subskills"][0]
    assert ms_rated["self_assessed"] == {
        "mean_confidence": 4.5,
        "n_ratings": 2,
        "level": "expert",
        "level_name": "Expert",
    }
    assert ms_without["self_assessed"] is None
    assert ms_rated["estimate"] == ms_without["estimate"]


def test_history_lists_attempts_newest_first_with_percent():
    data = report(attempts=(attempt(1, "practice", 0.5), attempt(2, "practice", 0.8)))
    assert [(a["id"], a["percent"]) for a in data["history"]["attempts"]] == [(2, 80.0), (1, 50.0)]
