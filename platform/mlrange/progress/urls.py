"""Page routes of mlrange.progress."""

from django.urls import path
from django.views.generic import TemplateView

app_name = "progress"
urlpatterns = [
    path(
        "",
        TemplateView.as_view(
            template_name="placeholders/soon.html", extra_context={"title": "dashboard"}
        ),
        name="dashboard",
    ),
]
