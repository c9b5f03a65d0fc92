"""LTI launches, accounts and cohorts, deep linking, grade passback (the outbox) and rosters."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from lti_tool.lti_core.constants import AgsScope
from lti_tool.models import LtiContext, LtiDeployment, LtiLaunch, LtiMembership, LtiRegistration, LtiUser
from lti_tool.utils import sync_data_from_launch
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as PyLineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from mlrange.accounts.models import User
from mlrange.assessments.models import Attempt, Quiz
from mlrange.common.exceptions import ApplicationError
from mlrange.labs.models import Lab, Submission
from mlrange.lti.models import LineItem, LtiAccount, LtiCourse, ScoreSend, Target, UsedNonce
from mlrange.lti.storage import message_launch
from mlrange.progress.models import Cohort, CohortMembership
from mlrange.progress.services import CODE_ALPHABET, CODE_LENGTH

logger = logging.getLogger(__name__)

INSTRUCTOR_ROLES = ("Instructor", "Administrator", "ContentDeveloper", "TeachingAssistant")
CUSTOM_TARGET = "target"


class LaunchError(ApplicationError):
    """A launch MLRange refuses; its message says what to fix. Nothing was recorded."""


class LmsUnavailableError(Exception):
    """The LMS did not answer or answered with an error: the send is tried again later."""


@dataclass(frozen=True)
class Destination:
    target: str
    slug: str = ""

    @property
    def key(self) -> str:
        return f"{self.target}:{self.slug}" if self.slug else self.target


# ---------------------------------------------------------------------------------------
# Targets.


def destination_parse(value: str | None) -> Destination:
    """`lab:<slug>`, `quiz:<slug>`, `placement` or `dashboard` (the default) -> a Destination."""
    if not value:
        return Destination(Target.DASHBOARD)
    kind, _, slug = value.strip().partition(":")
    if kind in (Target.LAB, Target.QUIZ):
        model: type[Lab] | type[Quiz] = Lab if kind == Target.LAB else Quiz
        exists = (
            Lab.objects.filter(slug=slug, is_active=True).exists()
            if model is Lab
            else Quiz.objects.filter(slug=slug, is_published=True).exists()
        )
        if not slug or not exists:
            raise LaunchError(
                f"This link opens the {kind} {slug!r}, which MLRange does not have. Ask the "
                "instructor to pick it again (Deep Linking) or fix the link's custom parameter."
            )
        return Destination(kind, slug)
    if kind in (Target.PLACEMENT, Target.DASHBOARD) and not slug:
        return Destination(kind)
    raise LaunchError(
        f"This link's custom parameter target={value!r} is not one MLRange knows: use lab:<slug>, "
        "quiz:<slug>, placement or dashboard."
    )


def destination_url(destination: Destination) -> str:
    if destination.target == Target.LAB:
        return reverse("labs:detail", kwargs={"slug": destination.slug})
    if destination.target == Target.QUIZ:
        return reverse("assessments:detail", kwargs={"slug": destination.slug})
    if destination.target == Target.PLACEMENT:
        return reverse("assessments:detail", kwargs={"slug": "placement"})
    return reverse("progress:dashboard")


# ---------------------------------------------------------------------------------------
# Launch.


LAUNCH_TRIES = 3


def _is_instructor(roles: list[str]) -> bool:
    return any(role.rsplit("#", 1)[-1] in INSTRUCTOR_ROLES for role in roles)


def _username_for(lti_user: LtiUser) -> str:
    """A readable, unused username: the LMS name or email, then as much of a digest as needed."""
    digest = hashlib.sha256(f"{lti_user.registration.issuer}|{lti_user.sub}".encode()).hexdigest()
    base = slugify(lti_user.name or lti_user.email.split("@")[0] or "learner")[:24].strip("-") or "learner"
    for length in (6, 12, 24):
        candidate = f"{base}-{digest[:length]}"
        if not User.objects.filter(username=candidate).exists():
            return candidate
    return f"{base}-{secrets.token_hex(12)}"


def account_for(*, lti_user: LtiUser, is_instructor: bool) -> User:
    """The MLRange account of an LMS user: linked once, created on first sight (no password).

    Never an existing account found by name: someone could have signed up with the name a
    launch would pick. An administrator links an LMS user to an existing account in the admin
    (LTI accounts).
    """
    link = LtiAccount.objects.select_related("user").filter(lti_user=lti_user).first()
    if link is not None:
        user = link.user
    else:
        user = User(
            username=_username_for(lti_user),
            email=lti_user.email,
            first_name=lti_user.given_name[:150],
            last_name=lti_user.family_name[:150],
        )
        user.set_unusable_password()
        user.save()
        LtiAccount.objects.create(lti_user=lti_user, user=user)
    if is_instructor and not user.is_instructor:
        user.role = User.Role.INSTRUCTOR
        user.save(update_fields=["role"])
    return user


@transaction.atomic
def account_link(*, lti_made: User, existing: User) -> int:
    """Point the LMS identities of an account a launch made at an existing (authenticated) one.

    The existing account joins (or teaches) the LMS courses' cohorts the made account was in;
    later launches sign in to it. What was done as the made account stays with that account.
    Returns how many LMS identities moved.
    """
    if lti_made.pk == existing.pk:
        raise ApplicationError("You are already signed in to that account.")
    if LtiAccount.objects.filter(user=existing).exists():
        raise ApplicationError("That account is already linked to an LMS account; ask an administrator.")
    accounts = list(LtiAccount.objects.select_for_update().filter(user=lti_made))
    if not accounts:
        raise ApplicationError("Only an account made by an LMS launch can be linked.")
    for course in LtiCourse.objects.filter(cohort__instructors=lti_made).select_related("cohort"):
        course_member_set(course=course, user=existing, is_instructor=True)
    for course in LtiCourse.objects.filter(cohort__memberships__learner=lti_made).select_related("cohort"):
        course_member_set(course=course, user=existing, is_instructor=False)
    if lti_made.is_instructor and not existing.is_instructor:
        existing.role = User.Role.INSTRUCTOR
        existing.save(update_fields=["role"])
    return LtiAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(user=existing)


def _new_cohort_code() -> str:
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Cohort.objects.filter(code=code).exists():
            return code
    raise ApplicationError("Could not pick a join code; try again.")  # pragma: no cover


def course_for(*, context: LtiContext, creator: User) -> LtiCourse:
    """The cohort of an LMS course, created on its first launch."""
    course = LtiCourse.objects.select_related("cohort").filter(context=context).first()
    if course is not None:
        return course
    name = (context.title or context.label or f"LMS course {context.id_on_platform}")[:120]
    cohort = Cohort.objects.create(name=name, code=_new_cohort_code(), created_by=creator)
    return LtiCourse.objects.create(context=context, cohort=cohort)


def course_member_set(*, course: LtiCourse, user: User, is_instructor: bool, is_active: bool = True) -> None:
    """Instructors of the course teach its cohort; everyone else learns in it. Idempotent."""
    cohort = course.cohort
    if not is_active:
        cohort.instructors.remove(user)
        CohortMembership.objects.filter(cohort=cohort, learner=user).delete()
    elif is_instructor:
        cohort.instructors.add(user)
    else:
        CohortMembership.objects.get_or_create(cohort=cohort, learner=user)


@dataclass(frozen=True)
class LaunchResult:
    user: User
    launch: LtiLaunch
    destination: Destination
    course: LtiCourse | None
    is_instructor: bool


def launch_accept(*, request: HttpRequest) -> LaunchResult:
    """Validate the platform's id_token and record who came from where, all or nothing.

    Refuses (LaunchError, nothing written) a token that is unsigned, wrongly signed, expired,
    for another audience, from an unregistered issuer or deployment, with a nonce MLRange did
    not issue or has seen before, or whose state cookie does not match.
    """
    pylti_launch = message_launch(request)
    try:
        pylti_launch.validate()
    except LtiException as error:
        raise LaunchError(f"This launch was refused: {error}.") from error
    launch = LtiLaunch(pylti_launch)
    roles = list(launch.roles_claim or [])
    is_instructor = _is_instructor(roles)
    custom = launch.get_claim("https://purl.imsglobal.org/spec/lti/claim/custom") or {}
    destination = (
        destination_parse(str(custom.get(CUSTOM_TARGET, "")))
        if launch.is_resource_launch
        else Destination("")
    )
    if launch.is_deep_link_launch and not is_instructor:
        raise LaunchError("Only an instructor of the course can pick MLRange labs and quizzes.")
    if not (launch.is_resource_launch or launch.is_deep_link_launch):
        raise LaunchError("MLRange takes resource link and deep linking launches only.")
    for tries_left in reversed(range(LAUNCH_TRIES)):
        for cached in ("user", "context"):  # django-lti caches rows a rolled-back try may have made
            launch.__dict__.pop(cached, None)
        try:
            user, course = _launch_record(launch=launch, destination=destination, is_instructor=is_instructor)
            break
        except IntegrityError:
            # Another launch of the same new LMS user or course committed its rows first
            # (two tabs, a class opening one link at once): this one rolled back whole, nonce
            # included, and now finds those rows.
            if not tries_left:
                raise
    return LaunchResult(user, launch, destination, course, is_instructor)


@transaction.atomic
def _launch_record(
    *, launch: LtiLaunch, destination: Destination, is_instructor: bool
) -> tuple[User, LtiCourse | None]:
    try:
        with transaction.atomic():
            UsedNonce.objects.create(nonce=str(launch.get_claim("nonce")))
    except IntegrityError as error:
        raise LaunchError(
            "This launch was already used (replayed nonce): start it again from the LMS."
        ) from error
    sync_data_from_launch(launch)
    user = account_for(lti_user=launch.user, is_instructor=is_instructor)
    course = None
    if launch.context_claim:
        course = course_for(context=launch.context, creator=user)
        course_member_set(course=course, user=user, is_instructor=is_instructor)
        _line_item_from_launch(launch=launch, destination=destination)
    return user, course


def _line_item_from_launch(*, launch: LtiLaunch, destination: Destination) -> None:
    """Remember a graded link's column; a platform that made one for the link names it."""
    if destination.target not in (Target.LAB, Target.QUIZ) or launch.ags_claim is None:
        return
    platform_url = str(launch.ags_claim.get("lineitem", ""))
    item, _ = LineItem.objects.get_or_create(
        context=launch.context,
        target=destination.target,
        slug=destination.slug,
        defaults={"label": _label(destination), "score_maximum": 100.0, "url": platform_url},
    )
    if platform_url and not item.url:
        item.url = platform_url
        item.save(update_fields=["url"])


def _label(destination: Destination) -> str:
    if destination.target == Target.LAB:
        lab = Lab.objects.filter(slug=destination.slug).first()
        return f"MLRange lab: {lab.title if lab else destination.slug}"
    quiz = Quiz.objects.filter(slug=destination.slug).first()
    return f"MLRange quiz: {quiz.title if quiz else destination.slug}"


def _origin(url: object) -> str | None:
    parts = urlsplit(str(url or ""))
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def frame_ancestors(*, request: HttpRequest | None = None, launch: LtiLaunch | None = None) -> list[str]:
    """Origins that may frame the pages an LMS launch opens.

    The registered platforms' issuer and login hosts; for a request, the page that posted it
    (an LMS's course pages often live on another host than its issuer, e.g. a university's
    Canvas); for a validated launch, the platform's own URL and return URL claims.
    """
    urls: list[object] = []
    for registration in LtiRegistration.objects.filter(is_active=True).only("auth_url", "issuer"):
        urls += [registration.auth_url, registration.issuer]
    if request is not None:
        urls.append(request.headers.get("Origin"))
    if launch is not None:
        urls.append((launch.platform_instance_claim or {}).get("url"))
        presentation = launch.get_claim("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}
        urls.append(presentation.get("return_url"))
    return sorted({origin for origin in map(_origin, urls) if origin})


# ---------------------------------------------------------------------------------------
# Deep Linking.


def deep_link_choices() -> dict[str, list[tuple[str, str]]]:
    labs = [(f"lab:{lab.slug}", lab.title) for lab in Lab.objects.filter(is_active=True)]
    quizzes = [
        (f"quiz:{q.slug}", q.title) for q in Quiz.objects.filter(is_published=True).order_by("order", "slug")
    ]
    return {
        "labs": labs,
        "quizzes": [*quizzes, ("placement", "Placement test"), ("dashboard", "My progress")],
    }


def deep_link_response(*, request: HttpRequest, launch_id: str, picks: list[str]) -> tuple[str, str]:
    """The signed response JWT for the picked items and the URL to post it to."""
    try:
        pylti_launch = message_launch(request, launch_id=launch_id)
    except LtiException as error:
        raise LaunchError("This selection expired: open the picker again from the LMS.") from error
    if not pylti_launch.is_deep_link_launch():
        raise LaunchError("This launch was not a deep linking request.")
    if not picks:
        raise ApplicationError("Pick at least one lab or quiz.")
    settings_claim = pylti_launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]
    launch_url = request.build_absolute_uri(reverse("lti:launch"))
    resources = []
    for pick in picks:
        destination = destination_parse(pick)
        resource = (
            DeepLinkResource()
            .set_url(launch_url)
            .set_title(_label(destination) if destination.slug else destination.key.capitalize())
            .set_custom_params({CUSTOM_TARGET: destination.key})
        )
        if destination.target in (Target.LAB, Target.QUIZ):
            resource.set_lineitem(
                PyLineItem()
                .set_label(_label(destination))
                .set_score_maximum(100)
                .set_resource_id(destination.key)
                .set_tag("mlrange")
            )
        resources.append(resource)
    jwt = pylti_launch.get_deep_link().get_response_jwt(resources)
    _line_items_for_picks(launch=LtiLaunch(pylti_launch), picks=picks)
    return jwt, str(settings_claim["deep_link_return_url"])


def _line_items_for_picks(*, launch: LtiLaunch, picks: list[str]) -> None:
    """The course's columns for the picked labs and quizzes, known before anyone opens them.

    Their URL stays empty: the platform makes the column from the deep-linking response, and
    the first score finds it by its resourceId (`lab:<slug>`), so it is never made twice.
    """
    if not launch.context_claim:
        return
    context = launch.context
    for pick in picks:
        destination = destination_parse(pick)
        if destination.target in (Target.LAB, Target.QUIZ):
            LineItem.objects.get_or_create(
                context=context,
                target=destination.target,
                slug=destination.slug,
                defaults={"label": _label(destination), "score_maximum": 100.0},
            )


# ---------------------------------------------------------------------------------------
# Grades: the outbox.


def _ags(context: LtiContext) -> AssignmentsGradesService:
    scopes = [
        scope
        for scope, allowed in (
            (AgsScope.MANAGE_LINEITEMS, context.can_manage_lineitems),
            (AgsScope.QUERY_LINEITEMS, context.can_query_lineitems),
            (AgsScope.PUBLISH_SCORES, context.can_publish_scores),
            (AgsScope.ACCESS_RESULTS, context.can_access_results),
        )
        if allowed
    ]
    connector = ServiceConnector(context.deployment.registration.to_registration())
    return AssignmentsGradesService(connector, {"scope": scopes, "lineitems": context.lineitems_url})


def _best(*, user: User, target: str, slug: str) -> tuple[str, float, datetime] | None:
    """The learner's best graded score (0-100) on a lab or quiz, with its source and time."""
    if target == Target.LAB:
        submission = (
            Submission.objects.filter(
                learner=user, lab__slug=slug, mode=Submission.Mode.GRADE, score__isnull=False
            )
            .order_by("-score", "finished_at")
            .first()
        )
        if submission is None or submission.score is None:
            return None
        maximum = submission.lab.max_points or 100.0
        return (
            f"submission:{submission.pk}",
            100.0 * submission.score / maximum,
            submission.finished_at or timezone.now(),
        )
    best: tuple[str, float, datetime] | None = None
    attempts = Attempt.objects.filter(
        learner=user, quiz__slug=slug, status__in=(Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED)
    ).order_by("submitted_at")
    for attempt in attempts:
        percent = float(((attempt.results or {}).get("score") or {}).get("percent", 0.0))
        if best is None or percent > best[1]:
            best = (f"attempt:{attempt.pk}", percent, attempt.submitted_at or timezone.now())
    return best


def scores_queue(*, user_id: int, target: str, slug: str) -> list[int]:
    """Queue the learner's best score for every LMS course that grades this lab or quiz.

    Idempotent: one outbox row per line item, LMS user and source, so a hook that fires twice
    or a score that is not a new best writes nothing more.
    """
    user = User.objects.get(pk=user_id)
    best = _best(user=user, target=target, slug=slug)
    if best is None:
        return []
    source, percent, when = best
    queued = []
    accounts = LtiAccount.objects.filter(user=user).select_related("lti_user")
    for account in accounts:
        memberships = LtiMembership.objects.filter(user=account.lti_user, is_active=True).values_list(
            "context_id", flat=True
        )
        for item in LineItem.objects.filter(context_id__in=memberships, target=target, slug=slug):
            send, created = ScoreSend.objects.get_or_create(
                line_item=item,
                lti_user=account.lti_user,
                source=source,
                defaults={
                    "score_given": round(percent * item.score_maximum / 100.0, 4),
                    "score_maximum": item.score_maximum,
                    "timestamp": when,
                },
            )
            if created:
                queued.append(send.pk)
    return queued


def _line_item_url(item: LineItem) -> str:
    """The LMS's URL of the column, created on the LMS the first time. Created once."""
    if item.url:
        return item.url
    with transaction.atomic():
        locked = LineItem.objects.select_for_update().get(pk=item.pk)
        if locked.url:
            return locked.url
        ags = _ags(locked.context)
        wanted = (
            PyLineItem()
            .set_label(locked.label)
            .set_score_maximum(locked.score_maximum)
            .set_resource_id(locked.resource_id)
            .set_tag("mlrange")
        )
        found = ags.find_or_create_lineitem(wanted, find_by="resource_id")
        locked.url = str(found.get_id())
        locked.save(update_fields=["url"])
        return locked.url


def _is_refusal(error: Exception) -> bool:
    """The LMS answered and said no (a 4xx other than timeout/rate limit): trying again won't help."""
    if not isinstance(error, LtiServiceException):
        return False
    status: int = error.response.status_code
    return 400 <= status < 500 and status not in (401, 408, 429)


def score_send(*, send_id: int) -> bool:
    """Post one outbox row to the LMS. Returns True once it is sent; idempotent.

    Raises LmsUnavailableError (the row stays pending, its error recorded) when the LMS cannot
    take it now (no answer, 5xx, 408, 429), for the task to retry. A score the LMS refuses
    (another 4xx) is marked FAILED with the LMS's answer, for an administrator to read.
    """
    send = ScoreSend.objects.select_related("line_item__context__deployment__registration", "lti_user").get(
        pk=send_id
    )
    if send.status != ScoreSend.Status.PENDING:
        return send.status == ScoreSend.Status.SENT
    try:
        lineitem_url = _line_item_url(send.line_item)
        grade = (
            Grade()
            .set_score_given(send.score_given)
            .set_score_maximum(send.score_maximum)
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_timestamp(send.timestamp.isoformat())
            .set_user_id(send.lti_user.sub)
        )
        _ags(send.line_item.context).put_grade(grade, PyLineItem().set_id(lineitem_url))
    except (LtiException, requests.RequestException) as error:
        refused = _is_refusal(error)
        ScoreSend.objects.filter(pk=send.pk, status=ScoreSend.Status.PENDING).update(
            tries=send.tries + 1,
            last_error=str(error)[:2000],
            **({"status": ScoreSend.Status.FAILED} if refused else {}),
        )
        logger.warning("lti score send %s %s: %s", send.pk, "refused" if refused else "failed", error)
        if refused:
            return False
        raise LmsUnavailableError(str(error)) from error
    ScoreSend.objects.filter(pk=send.pk, status=ScoreSend.Status.PENDING).update(
        status=ScoreSend.Status.SENT, sent_at=timezone.now(), tries=send.tries + 1, last_error=""
    )
    return True


# ---------------------------------------------------------------------------------------
# Rosters.


def roster_sync(*, course_id: int) -> dict[str, int]:
    """Bring the cohort in line with the LMS course's roster (Names and Role Provisioning).

    Members become (or stay linked to) MLRange accounts; instructors teach the cohort, learners
    join it, and members the LMS marks inactive or no longer lists leave it. Idempotent.
    """
    course = LtiCourse.objects.select_related("context__deployment__registration", "cohort").get(pk=course_id)
    context = course.context
    if not context.memberships_url:
        raise ApplicationError("This LMS course does not offer its roster (Names and Role Provisioning).")
    connector = ServiceConnector(context.deployment.registration.to_registration())
    nrps = NamesRolesProvisioningService(connector, {"context_memberships_url": context.memberships_url})
    try:
        members: list[dict[str, Any]] = nrps.get_members()
    except (LtiException, LtiServiceException, requests.RequestException) as error:
        raise LmsUnavailableError(str(error)) from error
    counts = {"learners": 0, "instructors": 0, "removed": 0}
    listed: set[int] = set()
    with transaction.atomic():
        for member in members:
            sub = str(member.get("user_id", ""))
            if not sub:
                continue
            lti_user, _ = LtiUser.objects.update_or_create(
                registration=context.deployment.registration,
                sub=sub,
                defaults={
                    key: str(member[claim])
                    for key, claim in (
                        ("name", "name"),
                        ("email", "email"),
                        ("given_name", "given_name"),
                        ("family_name", "family_name"),
                    )
                    if member.get(claim)
                },
            )
            is_instructor = _is_instructor([str(role) for role in member.get("roles", [])])
            is_active = member.get("status", "Active") == "Active"
            user = account_for(lti_user=lti_user, is_instructor=is_instructor and is_active)
            LtiMembership.objects.update_or_create(
                user=lti_user,
                context=context,
                defaults={
                    "is_instructor": is_instructor,
                    "is_learner": not is_instructor,
                    "is_active": is_active,
                },
            )
            course_member_set(course=course, user=user, is_instructor=is_instructor, is_active=is_active)
            if is_active:
                listed.add(user.pk)
                counts["instructors" if is_instructor else "learners"] += 1
            else:
                counts["removed"] += 1
        gone = CohortMembership.objects.filter(cohort=course.cohort).exclude(learner_id__in=listed)
        gone_ids = list(gone.values_list("learner_id", flat=True))
        linked = set(
            LtiAccount.objects.filter(
                user_id__in=gone_ids, lti_user__registration=context.deployment.registration
            ).values_list("user_id", flat=True)
        )
        counts["removed"] += gone.filter(learner_id__in=linked).delete()[0]
        course.roster_synced_at = timezone.now()
        course.save(update_fields=["roster_synced_at"])
    return counts


# ---------------------------------------------------------------------------------------
# Registration.


@transaction.atomic
def registration_upsert(
    *,
    name: str,
    issuer: str,
    client_id: str,
    deployment_ids: list[str],
    auth_login_url: str,
    token_url: str,
    keyset_url: str,
) -> LtiRegistration:
    """Register (or update) a platform by issuer and client id; its deployments are active.

    Makes sure the tool has a signing key. Idempotent.
    """
    from lti_tool.models import Key

    registration = LtiRegistration.objects.filter(issuer=issuer, client_id=client_id).first()
    if registration is None:
        registration = LtiRegistration(issuer=issuer, client_id=client_id)
    registration.name = name
    registration.auth_url = auth_login_url
    registration.token_url = token_url
    registration.keyset_url = keyset_url
    registration.is_active = True
    registration.full_clean()
    registration.save()
    for deployment_id in deployment_ids:
        LtiDeployment.objects.update_or_create(
            registration=registration, deployment_id=deployment_id, defaults={"is_active": True}
        )
    if not Key.objects.active().exists():
        Key.objects.generate()
    return registration
