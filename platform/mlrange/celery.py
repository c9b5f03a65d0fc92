"""The Celery application: the queue is a doorbell, the database is the truth."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlrange.settings")

app = Celery("mlrange")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
