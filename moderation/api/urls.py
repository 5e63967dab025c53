"""/api/v1/ routes."""

from django.urls import include, path

from moderation.scans.api import views

urlpatterns = [
    path("scans", views.ScanListCreateApi.as_view(), name="api-scans"),
    path("scans/<uuid:scan_id>", views.ScanDetailApi.as_view(), name="api-scan-detail"),
    path(
        "scans/<uuid:scan_id>/media/<int:index>",
        views.ScanMediaContentApi.as_view(),
        name="api-scan-media-content",
    ),
    path("known-fakes", views.KnownFakeListCreateApi.as_view(), name="api-known-fakes"),
    path("watermark/recover", views.WatermarkRecoverApi.as_view(), name="api-watermark-recover"),
    path("known-fakes/<uuid:entry_id>", views.KnownFakeDetailApi.as_view(), name="api-known-fake-detail"),
    path("", include("reports.api.urls")),  # reports, appeals
    path("", include("generation.api.urls")),  # generations, engines, protected identities
]
