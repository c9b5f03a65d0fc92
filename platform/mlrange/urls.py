"""Top-level routes: pages, the versioned API, its schema and docs, and the admin."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from mlrange.accounts.apis import TokenObtainApi
from mlrange.catalog import views as catalog_views
from mlrange.ops.apis import HealthApi
from mlrange.ops.views import metrics

# JSON under /api/, HTML pages elsewhere (mlrange.common.error_views).
handler400 = "mlrange.common.error_views.bad_request"
handler403 = "mlrange.common.error_views.permission_denied"
handler404 = "mlrange.common.error_views.page_not_found"
handler500 = "mlrange.common.error_views.server_error"

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    path("health/", HealthApi.as_view(), name="health"),
    path("", include("mlrange.catalog.api_urls")),
    path("", include("mlrange.assessments.api_urls")),
    path("", include("mlrange.labs.api_urls")),
    path("", include("mlrange.progress.api_urls")),
]

urlpatterns = [
    path("", catalog_views.home, name="home"),
    path("", include("mlrange.catalog.urls")),
    path("accounts/sso/", include("mlrange.sso.urls")),  # 404 unless SSO is configured
    path("accounts/", include("mlrange.accounts.urls")),
    path("quizzes/", include("mlrange.assessments.urls")),
    path("labs/", include("mlrange.labs.urls")),
    path("dashboard/", include("mlrange.progress.urls")),
    path("lti/", include("mlrange.lti.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's setup as a script file: no inline script (CSP). Swagger
    # UI sets inline styles itself, so this one page allows them (still no inline script).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]
