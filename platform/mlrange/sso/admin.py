"""Admin for SSO identities: an administrator links a staff account to its provider identity here."""

from django.contrib import admin

from mlrange.sso.models import SsoIdentity


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin[SsoIdentity]):
    list_display = ("user", "issuer", "subject", "email", "last_login_at")
    search_fields = ("user__username", "email", "subject")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_login_at")
