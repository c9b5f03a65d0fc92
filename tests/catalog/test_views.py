"""The guide's pages: each renders its key content, in a fixed number of queries."""

import pytest
from django.urls import reverse

PAGES = [
    (
        "home",
        {},
        [
            "AI/ML Security",
            "What you can do after mastering it",
            'href="/quizzes/"',
            'href="/labs/"',
            "Threat Modeling and Risk Assessment",
            "Expert",
        ],
    ),
    (
        "catalog:levels",
        {},
        [
            "Beginner",
            "Expert",
            "Can define adversarial attacks, data poisoning, and model theft.",
            "Testifies or consults on AI security regulations",
        ],
    ),
    (
        "catalog:path",
        {},
        [
            "Foundations and Core Concepts",
            "Implementation and Defense Strategies",
            "Advanced Topics and Real-World Application",
            "A robust image classifier with adversarial defenses.",
            "AML.T0043.000",
            "White-Box Optimization",
        ],
    ),
    (
        "catalog:misconceptions",
        {},
        [
            "Traditional cybersecurity fully covers AI/ML security.",
            "Continuous monitoring and updates are essential",
        ],
    ),
    ("catalog:use_cases", {}, ["Securing a Fraud Detection Model", "Beginner friendly", "Advanced"]),
    (
        "catalog:projects",
        {},
        [
            "Adversarially Robust Image Classifier",
            "What recruiters will notice",
            "Portfolio tips",
            "Include tests to demonstrate code quality awareness",
        ],
    ),
    (
        "catalog:resources",
        {},
        [
            "OWASP Machine Learning Security Top 10",
            "Paid resources",
            "Learning tips",
            "ML07",
            "Transfer Learning Attack",
            "MITRE ATLAS 5.6.0",
        ],
    ),
    (
        "catalog:faq",
        {},
        ["How is AI security different from traditional cybersecurity?", "<strong>MITRE ATLAS</strong>"],
    ),
    (
        "catalog:careers",
        {},
        [
            "Primary roles",
            "Secondary roles",
            "Industries",
            "Must-have keywords",
            "Resume phrasing examples",
            "AI Security Engineer",
        ],
    ),
    (
        "catalog:subskill",
        {"slug": "privacy-preserving-ml"},
        [
            "Privacy-Preserving ML Techniques",
            "Set up a federated learning system using PySyft",
            "Do you understand how homomorphic encryption applies to secure inference?",
            "AML.T0024.000",
            "Infer Training Data Membership",
            "ML04",
            "Membership Inference",
        ],
    ),
    (
        "catalog:subskill",
        {"slug": "model-security"},
        [
            "Red flags",
            "No experience with security tools like IBM Adversarial Robustness Toolbox or CleverHans.",
            "Model Hardening",
        ],
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "expected"), PAGES)
def test_page_shows_its_key_content(client, loaded_curriculum, name, kwargs, expected):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    html = response.content.decode()
    for text in expected:
        assert text in html, text


@pytest.mark.parametrize("page", PAGES, ids=[f"{name}{kwargs}" for name, kwargs, _ in PAGES])
def test_page_uses_a_fixed_number_of_queries(client, loaded_curriculum, django_assert_max_num_queries, page):
    name, kwargs, _expected = page
    with django_assert_max_num_queries(10):
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_red_flags_appear_only_on_their_subskill_page(client, loaded_curriculum):
    html = client.get(reverse("catalog:subskill", kwargs={"slug": "threat-modeling"})).content.decode()
    assert "Unable to name common AI attack vectors" in html
    assert "Deploys models without input validation" not in html


def test_unknown_subskill_is_404(client, loaded_curriculum):
    assert client.get(reverse("catalog:subskill", kwargs={"slug": "cooking"})).status_code == 404


def test_pages_explain_how_to_load_an_empty_database(client, db):
    for name in ("home", "catalog:levels", "catalog:faq"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "load_curriculum" in response.content.decode()


def test_home_page_is_no_longer_a_placeholder(client, loaded_curriculum):
    assert "is being built" not in client.get("/").content.decode()
