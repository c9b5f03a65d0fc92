"""Progressive hints: validated in the manifest, revealed one at a time, recorded, and private."""

import copy

import pytest
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from mlrange.labs import hints
from mlrange.labs.models import HintReveal
from mlrange.labs.registry import MAX_HINT_LENGTH, get_lab, validate_labs
from tests.labs_content.test_registry import VALID_MANIFEST, WHERE, write_lab

URL = "/api/v1/labs/adversarial-examples/hints/"
HINTS = get_lab("adversarial-examples").hints


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _errors(tmp_path, value) -> list[str]:
    manifest = copy.deepcopy(VALID_MANIFEST)
    manifest["hints"] = value
    return validate_labs(write_lab(tmp_path, manifest))[1]


# --- the manifest ---------------------------------------------------------------------


def test_manifest_hints_are_read_in_order(tmp_path):
    manifest = {**copy.deepcopy(VALID_MANIFEST), "hints": ["Look closer.", "Almost the method."]}
    specs, errors = validate_labs(write_lab(tmp_path, manifest))
    assert errors == []
    assert specs[0].hints == ("Look closer.", "Almost the method.")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (["only one"], "hints: expected 2 to 3 hints, got 1"),
        (["a", "b", "c", "d"], "hints: expected 2 to 3 hints, got 4"),
        (["a", "  "], "hints[1]: expected a non-empty string"),
        (["a", 7], "hints[1]: expected a non-empty string"),
        (["a", "x" * (MAX_HINT_LENGTH + 1)], f"hints[1]: longer than {MAX_HINT_LENGTH} characters"),
        ("one long hint", "hints: expected a list"),
        ([], "hints: expected at least one item"),
    ],
)
def test_bad_hints_are_errors_naming_the_field(tmp_path, value, error):
    assert _errors(tmp_path, value) == [f"{WHERE}: {error}"]


def test_every_real_lab_has_two_or_three_hints():
    specs, errors = validate_labs()
    assert errors == []
    assert len(specs) >= 16
    assert {spec.slug: 2 <= len(spec.hints) <= 3 for spec in specs} == {spec.slug: True for spec in specs}


# --- the API ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_hint_text_is_sent_before_it_is_revealed(lab, learner):
    response = api_as(learner).get(URL)
    assert response.status_code == 200
    assert response.json() == {"total": 3, "used": 0, "next_number": 1, "revealed": []}
    assert not any(hint[:40] in response.content.decode() for hint in HINTS)


@pytest.mark.django_db
def test_post_reveals_the_next_hint_only_and_records_when(lab, learner):
    response = api_as(learner).post(URL, {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["used"], body["next_number"]) == (1, 2)
    assert [(h["number"], h["text"]) for h in body["revealed"]] == [(1, HINTS[0])]
    assert HINTS[1][:40] not in response.content.decode()
    reveal = HintReveal.objects.get()
    assert (reveal.learner, reveal.lab, reveal.number) == (learner, lab, 1)
    assert body["revealed"][0]["revealed_at"].startswith(reveal.revealed_at.isoformat()[:19])


@pytest.mark.django_db
def test_asking_twice_for_the_same_hint_reveals_one(lab, learner):
    client = api_as(learner)
    first = client.post(URL, {"number": 1}, format="json")
    again = client.post(URL, {"number": 1}, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["used"] == 1
    assert HintReveal.objects.count() == 1


@pytest.mark.django_db
def test_hints_come_in_order(lab, learner):
    response = api_as(learner).post(URL, {"number": 2}, format="json")
    assert response.status_code == 400
    assert "reveal hint 1 first" in response.json()["detail"]
    assert not HintReveal.objects.exists()


@pytest.mark.django_db
def test_no_hint_past_the_last(lab, learner):
    client = api_as(learner)
    for _ in HINTS:
        assert client.post(URL, {}, format="json").status_code == 200
    response = client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert "All 3 hints of this lab are already shown" in response.json()["detail"]
    assert client.get(URL).json()["next_number"] is None
    assert HintReveal.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("number", [0, 4, "two"])
def test_a_bad_hint_number_is_a_400(lab, learner, number):
    response = api_as(learner).post(URL, {"number": number}, format="json")
    assert response.status_code == 400
    assert "number" in response.json()


@pytest.mark.django_db
def test_another_learners_reveals_are_never_visible(lab, learner, other_learner):
    api_as(learner).post(URL, {}, format="json")
    api_as(learner).post(URL, {}, format="json")
    theirs = api_as(other_learner).get(URL)
    assert theirs.json() == {"total": 3, "used": 0, "next_number": 1, "revealed": []}
    assert HINTS[0][:40] not in theirs.content.decode()
    assert (
        escape(HINTS[0])[:40] not in web_as(other_learner).get("/labs/adversarial-examples/").content.decode()
    )


@pytest.mark.django_db
def test_hints_need_a_login_and_a_real_lab(lab, learner):
    assert APIClient().get(URL).status_code == 401
    assert APIClient().post(URL, {}, format="json").status_code == 401
    assert api_as(learner).get("/api/v1/labs/no-such-lab/hints/").status_code == 404
    assert not HintReveal.objects.exists()


@pytest.mark.django_db
def test_hints_endpoint_is_in_the_openapi_schema_with_its_errors(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/labs/{slug}/hints/"]
    assert {"200", "401", "404"} <= set(operations["get"]["responses"])
    assert {"200", "400", "401", "404"} <= set(operations["post"]["responses"])


# --- the page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_lab_page_offers_the_first_hint_without_showing_it(lab, learner):
    page = web_as(learner).get("/labs/adversarial-examples/").content.decode()
    assert "Show hint 1 of 3" in page
    assert 'hx-post="/labs/adversarial-examples/hints/"' in page
    assert not any(escape(hint)[:40] in page for hint in HINTS)


@pytest.mark.django_db
def test_visitors_see_how_many_hints_there_are_but_none_of_them(client, lab):
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert "This lab has 3 hints" in page
    assert not any(escape(hint)[:40] in page for hint in HINTS)
    response = client.post("/labs/adversarial-examples/hints/", {"number": 1})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not HintReveal.objects.exists()


@pytest.mark.django_db
def test_form_post_without_javascript_reveals_and_returns_to_the_hint(lab, learner):
    client = web_as(learner)
    response = client.post("/labs/adversarial-examples/hints/", {"number": 1})
    assert response.status_code == 302
    assert response["Location"] == "/labs/adversarial-examples/#hint-1"
    page = client.get("/labs/adversarial-examples/").content.decode()
    assert escape(HINTS[0]) in page
    assert escape(HINTS[1])[:40] not in page
    assert "Show hint 2 of 3" in page


@pytest.mark.django_db
def test_htmx_post_gets_the_panel_back_with_the_new_hint_focused(lab, learner):
    client = web_as(learner)
    client.post("/labs/adversarial-examples/hints/", {"number": 1})
    response = client.post("/labs/adversarial-examples/hints/", {"number": 2}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    panel = response.content.decode()
    assert '<section class="hints" id="hints"' in panel
    assert "<html" not in panel
    assert 'id="hint-2" tabindex="-1" autofocus' in panel
    assert escape(HINTS[1]) in panel
    assert "Show hint 3 of 3" in panel


@pytest.mark.django_db
def test_htmx_post_out_of_order_says_why_in_the_panel(lab, learner):
    response = web_as(learner).post(
        "/labs/adversarial-examples/hints/", {"number": 3}, HTTP_HX_REQUEST="true"
    )
    assert 'role="alert"' in response.content.decode()
    assert "reveal hint 1 first" in response.content.decode()
    assert not HintReveal.objects.exists()


# --- dashboard and cohort ---------------------------------------------------------------------


@pytest.mark.django_db
def test_hint_use_counts_per_learner_and_lab(lab, learner, other_learner):
    hints.hint_reveal(learner=learner, lab=lab)
    hints.hint_reveal(learner=learner, lab=lab)
    hints.hint_reveal(learner=other_learner, lab=lab)
    uses = hints.hint_use_for_learners(learner_ids=[learner.pk, other_learner.pk])
    assert sorted((u.learner_id, u.lab_slug, u.used, u.total) for u in uses) == sorted(
        [(learner.pk, lab.slug, 2, 3), (other_learner.pk, lab.slug, 1, 3)]
    )
    assert hints.hints_used_by_learner(uses) == {learner.pk: 2, other_learner.pk: 1}


@pytest.mark.django_db
def test_dashboard_lists_the_hints_the_learner_took(lab, learner, other_learner):
    hints.hint_reveal(learner=other_learner, lab=lab)
    client = web_as(learner)
    assert "Hints you took" in client.get("/dashboard/").content.decode()
    assert "None yet." in client.get("/dashboard/").content.decode()
    hints.hint_reveal(learner=learner, lab=lab)
    hints.hint_reveal(learner=learner, lab=lab)
    page = client.get("/dashboard/").content.decode()
    assert "Craft adversarial examples</a></td>\n        <td>2 of 3</td>" in page


@pytest.mark.django_db
def test_cohort_page_api_and_csv_show_hints_per_learner_and_lab(lab, learner, other_learner, instructor):
    from mlrange.progress import services as progress

    cohort = progress.cohort_create(instructor=instructor, name="Spring")
    progress.cohort_join(learner=learner, code=cohort.code)
    hints.hint_reveal(learner=learner, lab=lab)
    hints.hint_reveal(learner=learner, lab=lab)
    hints.hint_reveal(learner=other_learner, lab=lab)  # not in the cohort: never counted
    report = api_as(instructor).get(f"/api/v1/cohorts/{cohort.pk}/progress/").json()
    assert report["hints"] == [
        {"username": "ada", "lab": lab.slug, "lab_title": lab.title, "used": 2, "total": 3}
    ]
    assert [(row["username"], row["hints_used"]) for row in report["learners"]] == [("ada", 2)]
    page = web_as(instructor).get(f"/dashboard/cohorts/{cohort.pk}/").content.decode()
    assert "<td>Craft adversarial examples</td><td>ada</td><td>2 of 3</td>" in page
    assert "mallory" not in page
    csv_text = web_as(instructor).get(f"/dashboard/cohorts/{cohort.pk}/export.csv").content.decode()
    header, row = csv_text.splitlines()[:2]
    assert row.split(",")[header.split(",").index("hints_used")] == "2"


@pytest.mark.django_db
def test_admin_lists_reveals_read_only(lab, learner, admin_client):
    hints.hint_reveal(learner=learner, lab=lab)
    page = admin_client.get("/admin/labs/hintreveal/")
    assert page.status_code == 200
    assert "ada" in page.content.decode()
    assert admin_client.get("/admin/labs/hintreveal/add/").status_code == 403
