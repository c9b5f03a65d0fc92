"""Events other apps may follow without assessments importing them (layers: it sits below them)."""

from django.dispatch import Signal

# Sent once an attempt is closed and scored (submitted or expired), with `attempt_id`. Receivers
# read the row themselves; the send happens after the commit.
attempt_finished = Signal()
