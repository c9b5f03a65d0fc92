"""App config for mlrange.common."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "mlrange.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"
