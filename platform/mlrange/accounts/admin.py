"""Admin for users, with their role; the instructor role is granted here."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from mlrange.accounts.models import User
from mlrange.accounts.services import user_set_role


@admin.register(User)
class MLRangeUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "role", "is_staff", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("MLRange", {"fields": ("role",)}))
    actions = ["grant_instructor", "revoke_instructor"]

    @admin.action(description="Grant the instructor role", permissions=["change"])
    def grant_instructor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_set_role(user=user, role=User.Role.INSTRUCTOR)
        self.message_user(request, f"{queryset.count()} user(s) are now instructors.", messages.SUCCESS)

    @admin.action(description="Take back the instructor role", permissions=["change"])
    def revoke_instructor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_set_role(user=user, role=User.Role.LEARNER)
        self.message_user(request, f"{queryset.count()} user(s) are now learners.", messages.SUCCESS)
