"""App config for mlrange.ops."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "mlrange.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
