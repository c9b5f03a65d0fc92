"""Admin for operational records."""

from django.contrib import admin

from mlrange.ops.models import WorkerPing

admin.site.register(WorkerPing)
