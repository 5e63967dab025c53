"""Console URLs, mounted at ``/console/`` by ``moderation.urls`` (namespace ``console``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from reports.console.views import audit, dashboard, generations, login, review, scans, veil, watermark

app_name = "console"

urlpatterns = [
    path("login/", login.ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", review.queue, name="queue"),
    path("items/bulk/", review.bulk_decide, name="bulk-decide"),
    path("items/<uuid:item_id>/", review.item_detail, name="item"),
    path("items/<uuid:item_id>/claim/", review.item_claim, name="item-claim"),
    path("items/<uuid:item_id>/release/", review.item_release, name="item-release"),
    path("items/<uuid:item_id>/decide/", review.item_decide, name="item-decide"),
    path("audit/", audit.audit, name="audit"),
    path("audit/export.csv", audit.audit_csv, name="audit-csv"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scans/", scans.scan_list, name="scans"),
    path("scans/export.csv", scans.scan_csv, name="scans-csv"),
    path("scans/<uuid:scan_id>/", scans.scan_detail, name="scan"),
    path("scans/<uuid:scan_id>/media/<int:index>/", scans.media_file, name="media-file"),
    path("scans/<uuid:scan_id>/media/<int:index>/reveal/", veil.reveal, name="media-reveal"),
    path("scans/<uuid:scan_id>/media/<int:index>/thumb.jpg", scans.media_thumbnail, name="media-thumb"),
    path("settings/blur/", veil.blur_setting, name="blur-setting"),
    path(
        "scans/<uuid:scan_id>/media/<int:index>/faces/<int:face>/heatmap.png",
        scans.face_heatmap,
        name="face-heatmap",
    ),
    path(
        "scans/<uuid:scan_id>/media/<int:index>/frames/<int:frame>.jpg",
        scans.frame_thumbnail,
        name="frame-thumb",
    ),
    path("tools/watermark/", watermark.watermark_check, name="watermark"),
    path("generations/", include(generations.urlpatterns)),  # generation log + thumbnails
]
