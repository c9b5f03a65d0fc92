"""LTI Advantage against the test platform over HTTP: deep linking, grade passback, rosters."""

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from mlrange.accounts.models import User
from mlrange.labs.models import Lab, Submission
from mlrange.labs.services import Outcome, submission_finish
from mlrange.lti import services
from mlrange.lti.models import LineItem, ScoreSend
from mlrange.lti.tasks import score_sends_sweep_task
from mlrange.progress.models import Cohort
from tests.lti.conftest import INSTRUCTOR, LEARNER, LEARNER_2, browser_launch
from tests.lti.platform import ROLE, Member, Platform
from tests.progress.factories import make_catalog, make_lab

pytestmark = pytest.mark.integration


@pytest.fixture
def lab(lms: Platform) -> Lab:
    make_catalog()
    return make_lab(slug="fgsm-evasion")


def _graded(learner: User, lab: Lab, score: float) -> Submission:
    """A submission graded through the real finish hook (the sandbox run itself is not repeated)."""
    submission = Submission.objects.create(
        learner=learner,
        lab=lab,
        mode=Submission.Mode.GRADE,
        cells=["print('attack')"],
        status=Submission.Status.RUNNING,
        deliveries=1,
    )
    outcome = Outcome(status=Submission.Status.PASSED, score=score, passed=score >= lab.pass_points)
    assert submission_finish(submission_id=str(submission.pk), delivery=1, outcome=outcome)
    return submission


def test_deep_linking_response_is_verified_by_the_platform(lms: Platform, lab: Lab) -> None:
    session = requests.Session()
    params = lms.prepare_launch(member=INSTRUCTOR, course_id="sec101", message_type="LtiDeepLinkingRequest")

    picker = browser_launch(lms, params, session)

    assert picker.status_code == 200
    assert "Add MLRange labs and quizzes" in picker.text
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)
    assert launch_id is not None
    back = session.post(
        lms.tool_launch_url.replace("launch/", "deep-link/"),
        data={"launch_id": launch_id.group(1), "pick": ["lab:fgsm-evasion", "placement"]},
        timeout=30,
    )
    assert back.status_code == 200
    form = re.search(r'action="([^"]+)"[^>]*>\s*<input type="hidden" name="JWT" value="([^"]+)"', back.text)
    assert form is not None
    assert form.group(1) == lms.url + "/deep_link_return"

    verdict = session.post(form.group(1), data={"JWT": form.group(2)}, timeout=30)

    assert verdict.status_code == 200, verdict.text
    assert [item["custom"]["target"] for item in lms.deep_link_items] == ["lab:fgsm-evasion", "placement"]
    assert lms.deep_link_items[0]["url"] == lms.tool_launch_url
    assert lms.deep_link_items[0]["lineItem"]["resourceId"] == "lab:fgsm-evasion"
    assert "lineItem" not in lms.deep_link_items[1]


def test_a_deep_linked_lab_gets_scores_in_the_platform_made_column(
    lms: Platform, lab: Lab, eager_tasks: None
) -> None:
    session = requests.Session()
    picker = browser_launch(
        lms,
        lms.prepare_launch(member=INSTRUCTOR, course_id="sec101", message_type="LtiDeepLinkingRequest"),
        session,
    )
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)
    assert launch_id is not None
    back = session.post(
        lms.tool_launch_url.replace("launch/", "deep-link/"),
        data={"launch_id": launch_id.group(1), "pick": ["lab:fgsm-evasion"]},
        timeout=30,
    )
    jwt_field = re.search(r'name="JWT" value="([^"]+)"', back.text)
    assert jwt_field is not None
    session.post(lms.url + "/deep_link_return", data={"JWT": jwt_field.group(1)}, timeout=30)
    [column] = lms.lineitems_of("sec101")  # the platform made it from the deep-linking response
    # The learner comes in through the course's dashboard link, not the lab's, and does the lab.
    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)

    _graded(learner, lab, 70.0)

    assert [(s["lineitem"], s["scoreGiven"]) for s in lms.scores] == [(column["id"], 70.0)]
    assert len(lms.lineitems_of("sec101")) == 1


def test_the_picker_asks_again_when_nothing_was_picked(lms: Platform, lab: Lab) -> None:
    session = requests.Session()
    params = lms.prepare_launch(member=INSTRUCTOR, course_id="sec101", message_type="LtiDeepLinkingRequest")
    picker = browser_launch(lms, params, session)
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text)
    assert launch_id is not None

    again = session.post(
        lms.tool_launch_url.replace("launch/", "deep-link/"),
        data={"launch_id": launch_id.group(1)},
        timeout=30,
    )

    assert again.status_code == 400
    assert "Pick at least one." in again.text
    assert 'value="lab:fgsm-evasion"' in again.text
    assert lms.deep_link_items == []


def test_a_learner_cannot_open_the_deep_linking_picker(lms: Platform) -> None:
    params = lms.prepare_launch(member=LEARNER, course_id="sec101", message_type="LtiDeepLinkingRequest")
    response = browser_launch(lms, params)
    assert response.status_code == 400
    assert "Only an instructor" in response.text


def test_a_graded_lab_sends_the_best_score_once_to_the_gradebook(
    lms: Platform, lab: Lab, eager_tasks: None
) -> None:
    params = lms.prepare_launch(member=LEARNER, course_id="sec101", custom={"target": "lab:fgsm-evasion"})
    assert browser_launch(lms, params).status_code == 302
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)

    first = _graded(learner, lab, 60.0)

    assert len(lms.scores) == 1
    score = lms.scores[0]
    assert score["userId"] == LEARNER.sub
    assert (score["scoreGiven"], score["scoreMaximum"]) == (60.0, 100.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    items = lms.lineitems_of("sec101")
    assert [(i["resourceId"], i["scoreMaximum"]) for i in items] == [("lab:fgsm-evasion", 100.0)]

    _graded(learner, lab, 40.0)  # not a new best: nothing to send
    services.scores_queue(user_id=learner.pk, target="lab", slug=lab.slug)  # the hook again: no duplicate
    assert len(lms.scores) == 1

    _graded(learner, lab, 90.0)

    assert [s["scoreGiven"] for s in lms.scores] == [60.0, 90.0]
    assert len(lms.lineitems_of("sec101")) == 1  # the line item was created once
    assert ScoreSend.objects.filter(status=ScoreSend.Status.SENT).count() == 2
    assert ScoreSend.objects.get(source=f"submission:{first.pk}").tries == 1


def test_a_score_waits_while_the_lms_is_down_and_is_sent_once_when_it_is_back(
    lms: Platform, lab: Lab, eager_tasks: None
) -> None:
    params = lms.prepare_launch(member=LEARNER, course_id="sec101", custom={"target": "lab:fgsm-evasion"})
    browser_launch(lms, params)
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)
    lms.is_down = True

    _graded(learner, lab, 75.0)

    send = ScoreSend.objects.get()
    assert send.status == ScoreSend.Status.PENDING
    assert send.tries >= 1
    assert "503" in send.last_error
    assert lms.scores == []

    lms.is_down = False
    ScoreSend.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert score_sends_sweep_task() == 1
    assert score_sends_sweep_task() == 0

    assert [s["scoreGiven"] for s in lms.scores] == [75.0]
    send.refresh_from_db()
    assert send.status == ScoreSend.Status.SENT


def test_a_platform_line_item_from_deep_linking_is_used_not_duplicated(
    lms: Platform, lab: Lab, eager_tasks: None
) -> None:
    column = lms._create_lineitem(
        "sec101", {"label": "FGSM", "scoreMaximum": 50, "resourceId": "lab:fgsm-evasion"}
    )
    params = lms.prepare_launch(
        member=LEARNER, course_id="sec101", custom={"target": "lab:fgsm-evasion"}, lineitem=column["id"]
    )
    browser_launch(lms, params)
    assert LineItem.objects.get().url == column["id"]
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)

    _graded(learner, lab, 80.0)

    assert [(s["lineitem"], s["scoreGiven"]) for s in lms.scores] == [(column["id"], 80.0)]
    assert len(lms.lineitems_of("sec101")) == 1


def test_roster_sync_brings_the_course_members_into_the_cohort(lms: Platform) -> None:
    browser_launch(lms, lms.prepare_launch(member=INSTRUCTOR, course_id="sec101"))
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    course_id = cohort.lti_course.pk

    counts = services.roster_sync(course_id=course_id)

    assert counts == {"learners": 2, "instructors": 1, "removed": 0}
    learners = {u.email for u in cohort.learners.all()}
    assert learners == {LEARNER.email, LEARNER_2.email}
    assert {u.email for u in cohort.instructors.all()} == {INSTRUCTOR.email}

    # A learner dropped in the LMS leaves the cohort; a new TA teaches it. A later launch by a
    # synced learner signs in to the account the sync made.
    course = lms.courses["sec101"]
    course.members[2].status = "Inactive"
    course.members.append(
        Member("ta-1", "Barbara Liskov", "barbara@uni.example", [ROLE + "TeachingAssistant"])
    )
    counts = services.roster_sync(course_id=course_id)
    assert counts["removed"] == 1
    assert {u.email for u in cohort.learners.all()} == {LEARNER.email}
    assert {u.email for u in cohort.instructors.all()} == {INSTRUCTOR.email, "barbara@uni.example"}
    synced = User.objects.get(email=LEARNER.email)
    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))
    assert User.objects.filter(email=LEARNER.email).count() == 1
    assert User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub) == synced


def test_the_sync_rosters_command_syncs_every_course(lms: Platform) -> None:
    import io

    from django.core.management import call_command

    browser_launch(lms, lms.prepare_launch(member=LEARNER, course_id="sec101"))
    out = io.StringIO()

    call_command("lti_sync_rosters", stdout=out)

    assert "AI Security 101: 2 learners, 1 instructors, 0 removed." in out.getvalue()
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    assert cohort.learners.count() == 2


def test_roster_sync_when_the_lms_is_down_changes_nothing(lms: Platform) -> None:
    browser_launch(lms, lms.prepare_launch(member=INSTRUCTOR, course_id="sec101"))
    cohort = Cohort.objects.get(lti_course__context__id_on_platform="sec101")
    lms.is_down = True
    with pytest.raises(services.LmsUnavailableError):
        services.roster_sync(course_id=cohort.lti_course.pk)
    assert cohort.learners.count() == 0


def test_a_submitted_quiz_sends_its_score_to_the_gradebook(lms: Platform, eager_tasks: None) -> None:
    from mlrange.assessments.models import Attempt
    from mlrange.assessments.services import attempt_submit
    from tests.progress.factories import make_attempt, make_item, make_quiz

    make_catalog()
    quiz = make_quiz(subskill="model-security", slug="robustness-practice")
    items = [make_item("model-security") for _ in range(4)]
    params = lms.prepare_launch(
        member=LEARNER, course_id="sec101", custom={"target": "quiz:robustness-practice"}
    )
    assert browser_launch(lms, params).headers["Location"] == "/quizzes/robustness-practice/"
    learner = User.objects.get(lti_accounts__lti_user__sub=LEARNER.sub)
    attempt = make_attempt(learner, quiz, [(item, 1.0 if i < 3 else 0.0) for i, item in enumerate(items)])
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.OPEN, submitted_at=None)

    attempt_submit(attempt=attempt)

    assert [(s["userId"], s["scoreGiven"], s["scoreMaximum"]) for s in lms.scores] == [
        (LEARNER.sub, 75.0, 100.0)
    ]
    assert [i["resourceId"] for i in lms.lineitems_of("sec101")] == ["quiz:robustness-practice"]


def test_platforms_are_registered_in_the_admin(lms: Platform, client: Any) -> None:
    from tests.factories import UserFactory

    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/lti_tool/ltiregistration/add/").status_code == 200
    listing = client.get("/admin/lti_tool/ltiregistration/")
    assert "Test LMS" in listing.content.decode()
    assert client.get("/admin/mlrange_lti/scoresend/").status_code == 200
