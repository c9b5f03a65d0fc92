"""Worker settings on kombu's stock filesystem transport, to reproduce kombu issue 1551 in tests."""

from mlrange.settings import *  # noqa: F403 -- the project's settings, but for the transport

CELERY_BROKER_TRANSPORT = None
