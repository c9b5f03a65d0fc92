"""Admin for users, with their role."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from mlrange.accounts.models import User


@admin.register(User)
class MLRangeUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "role", "is_staff", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("MLRange", {"fields": ("role",)}))
