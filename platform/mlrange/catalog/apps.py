"""App config for mlrange.catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "mlrange.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
