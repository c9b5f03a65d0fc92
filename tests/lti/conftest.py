"""Fixtures: the test LMS (tests.lti.platform) on a thread, MLRange registered with it, live."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.lti.platform import ROLE, Member, Platform

INSTRUCTOR = Member("teacher-1", "Grace Hopper", "grace@uni.example", [ROLE + "Instructor"])
LEARNER = Member("student-1", "Ada Lovelace", "ada@uni.example", [ROLE + "Learner"])
LEARNER_2 = Member("student-2", "Alan Turing", "alan@uni.example", [ROLE + "Learner"])


@pytest.fixture
def lms(live_server: Any) -> Iterator[Platform]:
    """A running LTI platform with MLRange registered on both sides, and a course."""
    from mlrange.lti.services import registration_upsert

    platform = Platform().start()
    platform.tool_jwks_url = live_server.url + "/lti/jwks/"
    platform.tool_login_url = live_server.url + "/lti/login/"
    platform.tool_launch_url = live_server.url + "/lti/launch/"
    registration_upsert(
        name="Test LMS",
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_ids=[platform.deployment_id],
        auth_login_url=platform.auth_url,
        token_url=platform.token_url,
        keyset_url=platform.jwks_url,
    )
    platform.course("sec101", "AI Security 101", [INSTRUCTOR, LEARNER, LEARNER_2])
    yield platform
    platform.stop()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in the caller (the real task code, no broker), as a worker would run them."""
    from mlrange.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def browser_launch(
    platform: Platform, params: dict[str, str], session: requests.Session | None = None
) -> requests.Response:
    """What a browser does: login initiation at the tool, the platform's auth page, the form post."""
    session = session or requests.Session()
    login = session.get(platform.tool_login_url, params=params, allow_redirects=False, timeout=30)
    assert login.status_code == 302, login.text
    auth = session.get(login.headers["Location"], timeout=30)
    assert auth.status_code == 200, auth.text
    return post_auth_form(session, auth.text)


def post_auth_form(session: requests.Session, page: str) -> requests.Response:
    action = re.search(r'action="([^"]+)"', page)
    fields = dict(re.findall(r'name="(id_token|state)" value="([^"]*)"', page))
    assert action is not None
    return session.post(action.group(1).replace("&amp;", "&"), data=fields, allow_redirects=False, timeout=30)
