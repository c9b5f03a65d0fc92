"""App config for mlrange.accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mlrange.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
