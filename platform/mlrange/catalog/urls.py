"""Page routes of mlrange.catalog."""

from django.urls import path
from django.views.generic import TemplateView

app_name = "catalog"
urlpatterns = [
    path(
        "levels/",
        TemplateView.as_view(
            template_name="placeholders/soon.html", extra_context={"title": "levels"}
        ),
        name="levels",
    ),
    path(
        "path/",
        TemplateView.as_view(
            template_name="placeholders/soon.html", extra_context={"title": "path"}
        ),
        name="path",
    ),
    path(
        "resources/",
        TemplateView.as_view(
            template_name="placeholders/soon.html", extra_context={"title": "resources"}
        ),
        name="resources",
    ),
]
