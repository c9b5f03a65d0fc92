"""API routes of mlrange.labs, mounted under /api/v1/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
