"""App config for mlrange.labs."""

from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "mlrange.labs"
    label = "labs"
    default_auto_field = "django.db.models.BigAutoField"
