"""Routes of the LTI tool, mounted under /lti/."""

from django.urls import path

from mlrange.lti import views

app_name = "lti"
urlpatterns = [
    path("login/", views.login_initiation, name="login"),
    path("launch/", views.launch, name="launch"),
    path("deep-link/", views.deep_link_submit, name="deep_link"),
    path("jwks/", views.jwks, name="jwks"),
    path("link/", views.account_link, name="link"),
    path("canvas.json", views.canvas_config, name="canvas_config"),
]
