"""Events other apps may follow without labs importing them (layers: labs sits below them)."""

from django.dispatch import Signal

# Sent once a submission's final state is recorded (the fenced update matched), with
# `submission_id`. Receivers read the row themselves; the send happens after the commit.
submission_finished = Signal()
