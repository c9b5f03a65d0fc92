"""App config for mlrange.assessments."""

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "mlrange.assessments"
    label = "assessments"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from mlrange.assessments.content import register

        register()
