"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from moderation.core.api.errors import api_not_found
from moderation.health import healthz, readyz

# Django's error pages, in the API's JSON format under /api/ (its HTML pages elsewhere).
handler404 = "moderation.core.api.errors.handler404"
handler500 = "moderation.core.api.errors.handler500"

urlpatterns = [
    # The audit log's admin pages moved with the model from the reports app to the core (issue 20):
    # old links and bookmarks land on the same page.
    re_path(
        r"^admin/reports/auditentry/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/moderation/auditentry/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", include("moderation.api.urls")),
    path("console/", include("reports.console.urls")),
    # The schema and its browsable UI (Swagger UI) are public documentation; the UI's assets come
    # from drf-spectacular-sidecar through staticfiles, never from a CDN. (drf-spectacular's Redoc
    # page is not offered: its template loads Google Fonts.)
    path(
        "api/schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", authentication_classes=[], permission_classes=[]
        ),
        name="api-docs",
    ),
    # Last: whatever else is under /api/ is the API's JSON 404, also with DEBUG on (no HTML page).
    re_path(r"^api/", api_not_found, name="api-not-found"),
]
