"""LTI launches against a real platform over HTTP: accounts, cohorts, refusals, keys, registration."""

import io
import re
from typing import Any

import pytest
import requests
from django.core.management import call_command

from mlrange.accounts.models import User
from mlrange.lti.models import LtiAccount, LtiCourse, UsedNonce
from mlrange.progress.models import Cohort
from tests.lti.conftest import INSTRUCTOR, LEARNER, browser_launch, post_auth_form
from tests.lti.platform import LTI, Platform
from tests.progress.factories import make_catalog, make_lab

pytestmark = pytest.mark.integration


def _counts() -> dict[str, int]:
    from lti_tool.models import LtiContext, LtiDeployment, LtiMembership, LtiResourceLink, LtiUser

    models: list[Any] = [User, Cohort, LtiAccount, LtiCourse, UsedNonce, LtiUser, LtiContext, LtiDeployment]
    models += [LtiMembership, LtiResourceLink]
    return {model.__name__: model.objects.count() for model in models}


def test_instructor_launch_makes_the_course_a_cohort_it_teaches(lms: Platform) -> None:
    response = browser_launch(lms, lms.prepare_launch(member=INSTRUCTOR, course_id="sec101"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    teacher = User.objects.get(lti_accounts__lti_user__sub=INSTRUCTOR.sub)
    assert teacher.is_instructor
    assert teacher.email == INSTRUCTOR.email
    assert not teacher.has_usable_password()
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    assert cohort.name == "AI Security 101"
    assert list(cohort.instructors.all()) == [teacher]


def test_learner_launch_opens_the_linked_lab_signed_in_and_joins_the_cohort(lms: Platform) -> None:
    make_catalog()
    lab = make_lab(slug="fgsm-evasion")
    session = requests.Session()
    params = lms.prepare_launch(member=LEARNER, course_id="sec101", custom={"target": "lab:fgsm-evasion"})

    response = browser_launch(lms, params, session)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/labs/{lab.slug}/"
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)
    assert not learner.is_instructor
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    assert list(cohort.learners.all()) == [learner]
    page = session.get(lms.tool_launch_url.replace("/lti/launch/", "/dashboard/"), timeout=30)
    assert page.status_code == 200
    assert learner.username in page.text


def test_a_launch_never_signs_in_to_an_account_that_merely_has_the_expected_name(lms: Platform) -> None:
    import hashlib

    from tests.factories import UserFactory

    digest = hashlib.sha256(f"{lms.issuer}|{LEARNER.sub}".encode()).hexdigest()
    squatter = UserFactory.create(username=f"ada-lovelace-{digest[:6]}")

    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))

    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)
    assert learner != squatter
    assert learner.username == f"ada-lovelace-{digest[:12]}"


def test_a_second_launch_reuses_the_account_and_cohort(lms: Platform) -> None:
    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))
    before = _counts()

    response = browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))

    assert response.status_code == 302
    after = _counts()
    assert after["UsedNonce"] == before["UsedNonce"] + 1
    assert {k: v for k, v in after.items() if k != "UsedNonce"} == {
        k: v for k, v in before.items() if k != "UsedNonce"
    }


BAD_LAUNCHES = {
    "wrong issuer": ({"claims": {"iss": "https://evil.example"}}, "Registration not found"),
    "wrong audience": ({"claims": {"aud": "someone-else"}}, "Registration not found"),
    "unknown deployment": ({"claims": {LTI + "deployment_id": "deployment-9"}}, "Unable to find deployment"),
    "expired token": ({"expires_in": -120}, "expired"),
    "unsigned token": ({"signing": "none"}, "JWT KID not found"),
    "token signed with another key": ({"signing": "other"}, "decode id_token"),
    "unknown link target": ({"custom": {"target": "lab:no-such-lab"}}, "MLRange does not have"),
}


@pytest.mark.parametrize("case", list(BAD_LAUNCHES))
def test_bad_launch_gets_an_error_page_and_creates_nothing(lms: Platform, case: str) -> None:
    options, reason = BAD_LAUNCHES[case]
    before = _counts()

    response = browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101", **options))

    assert response.status_code == 400
    assert "MLRange could not open this link" in response.text
    assert reason in response.text
    assert _counts() == before


def test_replayed_launch_is_refused_and_creates_nothing_more(lms: Platform) -> None:
    session = requests.Session()
    params = lms.prepare_launch(member=LEARNER, course_id="sec101")
    login = session.get(lms.tool_login_url, params=params, allow_redirects=False, timeout=30)
    auth = session.get(login.headers["Location"], timeout=30).text
    assert post_auth_form(session, auth).status_code == 302
    after_first = _counts()

    replay = post_auth_form(session, auth)

    assert replay.status_code == 400
    assert "already used" in replay.text
    assert _counts() == after_first


def test_launch_without_the_state_cookie_offers_a_new_window(lms: Platform) -> None:
    params = lms.prepare_launch(member=LEARNER, course_id="sec101")
    login = requests.get(lms.tool_login_url, params=params, allow_redirects=False, timeout=30)
    auth = requests.get(login.headers["Location"], timeout=30).text
    before = _counts()

    response = post_auth_form(requests.Session(), auth)  # a browser that kept no cookie

    assert response.status_code == 200
    link = re.search(r'id="lti-new-window" href="([^"]+)" target="_blank"', response.text)
    assert link is not None
    assert "lti1p3_new_window=1" in link.group(1)
    assert _counts() == before


def test_login_initiation_from_an_unregistered_issuer_is_refused(lms: Platform) -> None:
    params = {**lms.prepare_launch(member=LEARNER, course_id="sec101"), "iss": "https://unknown.example"}

    response = requests.get(lms.tool_login_url, params=params, allow_redirects=False, timeout=30)

    assert response.status_code == 400
    assert "MLRange could not open this link" in response.text


def test_jwks_serves_public_keys_only_and_rotation_publishes_the_new_key(lms: Platform) -> None:
    jwks_url = lms.tool_jwks_url
    first = requests.get(jwks_url, timeout=30).json()["keys"]
    assert len(first) == 1
    assert all("d" not in key and "p" not in key and "q" not in key for key in first)

    call_command("rotate_keys", "--deactivate-after", "0", stdout=io.StringIO())

    rotated = requests.get(jwks_url, timeout=30).json()["keys"]
    assert len(rotated) == 1
    assert rotated[0]["kid"] != first[0]["kid"]
    assert all("d" not in key for key in rotated)
    # The platform still takes the tool's signed requests with the new key.
    assert browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101")).status_code == 302


@pytest.mark.django_db
def test_register_command_is_idempotent_and_prints_the_tool_urls() -> None:
    from lti_tool.models import LtiDeployment, LtiRegistration

    args = [
        "lti_register",
        "--name=Uni Canvas",
        "--issuer=https://canvas.instructure.com",
        "--client-id=10000000000001",
        "--deployment-id=1:abc",
        "--deployment-id=2:def",
        "--auth-login-url=https://sso.canvaslms.com/api/lti/authorize_redirect",
        "--token-url=https://sso.canvaslms.com/login/oauth2/token",
        "--keyset-url=https://sso.canvaslms.com/api/lti/security/jwks",
        "--base-url=https://range.uni.example",
    ]
    out = io.StringIO()
    call_command(*args, stdout=out)
    call_command(*args, stdout=io.StringIO())

    assert LtiRegistration.objects.count() == 1
    assert set(LtiDeployment.objects.values_list("deployment_id", flat=True)) == {"1:abc", "2:def"}
    text = out.getvalue()
    assert "OIDC login initiation URL: https://range.uni.example/lti/login/" in text
    assert "Launch (redirect / target link) URL: https://range.uni.example/lti/launch/" in text
    assert "Public JWKS URL: https://range.uni.example/lti/jwks/" in text
    assert "Deep linking URL: https://range.uni.example/lti/launch/" in text


def test_manage_py_help_lists_the_registration_command() -> None:
    from django.core.management import ManagementUtility

    assert "lti_register" in ManagementUtility(["manage.py"]).main_help_text()


def test_canvas_configuration_names_the_tool_urls(lms: Platform) -> None:
    config = requests.get(lms.tool_login_url.replace("login/", "canvas.json"), timeout=30).json()
    assert config["oidc_initiation_url"] == lms.tool_login_url
    assert config["target_link_uri"] == lms.tool_launch_url
    assert config["public_jwk_url"] == lms.tool_jwks_url


@pytest.mark.django_db
def test_the_sweep_forgets_nonces_only_after_the_issued_ones_expired() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from mlrange.lti.tasks import score_sends_sweep_task

    old = UsedNonce.objects.create(nonce="old")
    UsedNonce.objects.filter(pk=old.pk).update(used_at=timezone.now() - timedelta(days=3))
    UsedNonce.objects.create(nonce="recent")

    score_sends_sweep_task()

    assert list(UsedNonce.objects.values_list("nonce", flat=True)) == ["recent"]


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)


def test_a_learner_links_the_launch_to_an_existing_account(lms: Platform) -> None:
    from tests.factories import UserFactory

    mine = UserFactory.create(username="ada-local")
    session = requests.Session()
    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"), session)
    made = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)
    link_url = lms.tool_launch_url.replace("launch/", "link/")

    wrong = session.post(
        link_url,
        data={"csrfmiddlewaretoken": _csrf(session, link_url), "username": "ada-local", "password": "nope"},
        headers={"Referer": link_url},
        timeout=30,
    )
    assert wrong.status_code == 400
    assert User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub) == made

    done = session.post(
        link_url,
        data={
            "csrfmiddlewaretoken": _csrf(session, link_url),
            "username": "ada-local",
            "password": "correct horse battery staple",
        },
        headers={"Referer": link_url},
        timeout=30,
    )

    assert done.status_code == 200
    assert "your course now opens MLRange as" in done.text
    assert User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub) == mine
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    assert mine in cohort.learners.all()
    # The next launch signs in to the linked account.
    later = requests.Session()
    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"), later)
    assert (
        "ada-local" in later.get(lms.tool_launch_url.replace("/lti/launch/", "/dashboard/"), timeout=30).text
    )


def test_the_link_page_refuses_an_account_of_ones_own(lms: Platform) -> None:
    from django.test import Client

    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory.create(username="local-only"))
    response = client.post("/lti/link/", {"username": "x", "password": "y"})
    assert response.status_code == 200
    assert "already your own" in response.content.decode()


def test_pages_a_launch_opens_may_be_framed_by_the_lms_page_that_posted_it(lms: Platform) -> None:
    session = requests.Session()
    params = lms.prepare_launch(member=LEARNER, course_id="sec101")
    login = session.get(lms.tool_login_url, params=params, allow_redirects=False, timeout=30)
    auth = session.get(login.headers["Location"], timeout=30).text
    session.headers["Origin"] = "https://myuni.instructure.example"
    assert post_auth_form(session, auth).status_code == 302
    del session.headers["Origin"]

    page = session.get(lms.tool_launch_url.replace("/lti/launch/", "/dashboard/"), timeout=30)

    policy = page.headers["Content-Security-Policy"]
    ancestors = next(d for d in policy.split(";") if d.strip().startswith("frame-ancestors")).split()[1:]
    assert sorted(ancestors) == sorted(["https://myuni.instructure.example", lms.url])
    assert "X-Frame-Options" not in page.headers
    # Pages of sessions no launch started stay unframeable.
    home = requests.get(lms.tool_launch_url.replace("/lti/launch/", "/"), timeout=30)
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
