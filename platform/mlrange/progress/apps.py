"""App config for mlrange.progress."""

from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "mlrange.progress"
    label = "progress"
    default_auto_field = "django.db.models.BigAutoField"
