"""Page routes of mlrange.assessments."""

from django.urls import path
from django.views.generic import TemplateView

app_name = "assessments"
urlpatterns = [
    path(
        "",
        TemplateView.as_view(
            template_name="placeholders/soon.html", extra_context={"title": "index"}
        ),
        name="index",
    ),
]
