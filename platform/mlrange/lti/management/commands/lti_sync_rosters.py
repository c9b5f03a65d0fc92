"""manage.py lti_sync_rosters: bring every LMS course's cohort in line with its LMS roster."""

from typing import Any

from django.core.management.base import BaseCommand

from mlrange.lti.models import LtiCourse
from mlrange.lti.services import LmsUnavailableError, roster_sync


class Command(BaseCommand):
    help = (
        "Sync the rosters of LMS courses into their cohorts (LTI Names and Role Provisioning). "
        "Instructor launches also sync their course; run this from cron for nightly syncs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        courses = LtiCourse.objects.exclude(context__memberships_url="").select_related("cohort")
        for course in courses:
            try:
                counts = roster_sync(course_id=course.pk)
            except LmsUnavailableError as error:
                failed += 1
                self.stderr.write(f"{course.cohort}: the LMS did not answer ({error}); try again later.")
                continue
            self.stdout.write(
                f"{course.cohort}: {counts['learners']} learners, {counts['instructors']} instructors, "
                f"{counts['removed']} removed."
            )
        if failed:
            self.stderr.write(self.style.WARNING(f"{failed} course(s) not synced."))
