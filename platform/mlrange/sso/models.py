"""Which account an identity at the organisation's provider signs in to."""

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    """One (issuer, subject) pair, linked to one account for good.

    The provider's `sub` is stable where an email address may change hands: once linked, a
    sign-in finds its account by this pair, never by email again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.EmailField(
        blank=True, help_text="The verified email the provider gave at the last sign-in."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer} -> {self.user_id}"
