"""MLRange: the web platform, its API and its lab workers."""

from mlrange.celery import app as celery_app

__all__ = ("celery_app",)
