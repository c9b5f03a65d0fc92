"""The guide's read API: public, GET only, unpaginated small sets."""

import pytest

pytestmark = pytest.mark.usefixtures("loaded_curriculum")


def test_levels_list_returns_the_four_levels_in_order(api_client):
    response = api_client.get("/api/v1/levels/")
    assert response.status_code == 200
    assert [level["slug"] for level in response.json()] == [
        "beginner", "intermediate", "advanced", "expert",
    ]  # fmt: skip
    assert set(response.json()[0]) == {"slug", "name", "order", "summary", "can_do", "next_step"}
    assert len(response.json()[0]["can_do"]) == 5


def test_level_detail_and_404(api_client):
    assert api_client.get("/api/v1/levels/expert/").json()["summary"] == (
        "Sets industry standards, researches novel threats, and advises on policy."
    )
    assert api_client.get("/api/v1/levels/guru/").status_code == 404


def test_subskills_list_has_weights_summing_to_100_and_resolved_refs(api_client):
    subskills = api_client.get("/api/v1/subskills/").json()
    assert len(subskills) == 5
    assert sum(s["weight"] for s in subskills) == 100
    model_security = subskills[0]
    assert model_security["slug"] == "model-security"
    assert {"id": "AML.M0003", "name": "Model Hardening", "kind": "mitigation",
            "url": "https://atlas.mitre.org/mitigations/AML.M0003"} in model_security["atlas"]  # fmt: skip
    assert model_security["owasp"][0]["id"] == "ML01"
    assert model_security["owasp"][0]["name"] == "Input Manipulation"


def test_subskill_detail_includes_its_red_flags_and_self_check(api_client):
    data = api_client.get("/api/v1/subskills/infrastructure-security/").json()
    assert [f["slug"] for f in data["red_flags"]] == [
        "no-input-validation-or-monitoring", "weak-deployment-practices",
    ]  # fmt: skip
    assert [q["slug"] for q in data["self_check_questions"]] == ["secure-ml-api"]
    assert api_client.get("/api/v1/subskills/cooking/").status_code == 404


def test_paths_lists_the_three_stages_with_their_parts(api_client):
    stages = api_client.get("/api/v1/paths/").json()
    assert [s["slug"] for s in stages] == ["foundations", "implementation", "advanced-practice"]
    assert [s["level"] for s in stages] == ["beginner", "intermediate", "advanced"]
    first = stages[0]
    assert len(first["goals"]) == 3
    assert len(first["recommended_actions"]) == 4
    assert len(first["deliverables"]) == 2
    topic = first["key_topics"][1]
    assert topic["title"] == "Adversarial examples and evasion"
    assert topic["atlas"][0] == {
        "id": "AML.T0015", "name": "Evade AI Model", "kind": "technique",
        "url": "https://atlas.mitre.org/techniques/AML.T0015",
    }  # fmt: skip


def test_guide_holds_every_other_section(api_client):
    guide = api_client.get("/api/v1/guide/").json()
    assert guide["overview"]["title"] == "AI/ML Security"
    assert len(guide["overview"]["why_it_matters"]) == 5
    assert len(guide["overview"]["outcomes"]) == 5
    assert len(guide["misconceptions"]) == 4
    assert len(guide["use_cases"]) == 3
    assert len(guide["projects"]["items"]) == 3
    assert len(guide["projects"]["tips"]) == 4
    assert len(guide["self_assessment"]["self_check"]) == 8
    assert len(guide["self_assessment"]["quiz"]) == 3
    assert len(guide["red_flags"]) == 5
    assert len(guide["resources"]["free"]) >= 6
    assert len(guide["resources"]["paid"]) >= 1
    assert len(guide["resources"]["tips"]) == 4
    assert guide["careers"]["ats_keywords"]["must_have"]
    assert guide["careers"]["resume_phrases"]
    assert guide["faq"][0]["slug"] == "ai-security-vs-cybersecurity"
    assert guide["taxonomies"]["atlas_version"] == "5.6.0"
    assert [i["id"] for i in guide["taxonomies"]["owasp_ml_top_10"]] == [f"ML{n:02d}" for n in range(1, 11)]


def test_guide_quiz_hides_the_answers(api_client):
    quiz = api_client.get("/api/v1/guide/").json()["self_assessment"]["quiz"]
    assert quiz[0]["choices"] == [
        "Adversarial training", "Differential privacy", "Dropout regularization",
        "Model watermarking",
    ]  # fmt: skip
    assert "is_correct" not in str(quiz)
    assert "explanation" not in str(quiz)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/levels/", "/api/v1/levels/beginner/", "/api/v1/subskills/",
     "/api/v1/subskills/data-security/", "/api/v1/paths/", "/api/v1/guide/"],
)  # fmt: skip
def test_api_is_read_only(api_client, learner_client, url):
    assert api_client.post(url, {}).status_code == 405
    assert learner_client.post(url, {}).status_code == 405
    assert learner_client.delete(url).status_code == 405


def test_guide_api_uses_a_fixed_number_of_queries(api_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert api_client.get("/api/v1/guide/").status_code == 200


def test_list_apis_use_a_fixed_number_of_queries(api_client, django_assert_max_num_queries):
    for url in ("/api/v1/levels/", "/api/v1/subskills/", "/api/v1/paths/"):
        with django_assert_max_num_queries(2):
            assert api_client.get(url).status_code == 200


def test_openapi_schema_describes_the_guide_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/levels/", "/api/v1/levels/{slug}/", "/api/v1/subskills/",
                 "/api/v1/subskills/{slug}/", "/api/v1/paths/", "/api/v1/guide/"):  # fmt: skip
        assert "get" in schema["paths"][path], path
        assert "post" not in schema["paths"][path], path
    guide_schema = schema["components"]["schemas"]["GuideOutput"]
    assert "misconceptions" in guide_schema["properties"]
