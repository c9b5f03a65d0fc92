"""Single sign-on routes, under /accounts/sso/; each answers 404 while SSO is off."""

from django.urls import path

from mlrange.sso import views

app_name = "sso"
urlpatterns = [
    path("login/", views.sso_login, name="login"),
    path("callback/", views.sso_callback, name="callback"),
    path("logout/", views.sso_logout, name="logout"),
]
