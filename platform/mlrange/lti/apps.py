"""The LTI 1.3 Advantage tool: MLRange inside Canvas, Moodle, Open edX and other LMSs."""

from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "mlrange.lti"
    label = "mlrange_lti"
    verbose_name = "LTI 1.3 tool"

    def ready(self) -> None:
        from mlrange.lti import receivers

        receivers.connect()
