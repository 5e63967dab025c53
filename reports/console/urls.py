"""Console URLs, mounted at ``/console/`` by ``moderation.urls`` (namespace ``console``).

Built from the page registry (``reports.console.pages``): each entry's path, name, methods and
permission; ``VIEWS`` says which view answers it.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.exceptions import ImproperlyConfigured
from django.urls import path

from reports.console.access import View
from reports.console.pages import PAGES, guarded
from reports.console.views import audit, dashboard, generations, login, review, scans, veil, watermark

app_name = "console"

VIEWS: dict[str, View] = {
    "queue": review.queue,
    "bulk-decide": review.bulk_decide,
    "item": review.item_detail,
    "item-claim": review.item_claim,
    "item-release": review.item_release,
    "item-decide": review.item_decide,
    "scans": scans.scan_list,
    "scans-csv": scans.scan_csv,
    "scan": scans.scan_detail,
    "media-file": scans.media_file,
    "media-reveal": veil.reveal,
    "media-thumb": scans.media_thumbnail,
    "face-heatmap": scans.face_heatmap,
    "frame-thumb": scans.frame_thumbnail,
    "dashboard": dashboard.dashboard,
    "audit": audit.audit,
    "audit-csv": audit.audit_csv,
    "watermark": watermark.watermark_check,
    "generations": generations.generation_list,
    "generation-thumb": generations.generation_thumbnail,
    "blur-setting": veil.blur_setting,
    "login": login.ConsoleLoginView.as_view(),
    "logout": auth_views.LogoutView.as_view(),
}

if set(VIEWS) != {page.name for page in PAGES}:
    raise ImproperlyConfigured(
        "reports.console.urls.VIEWS and reports.console.pages.PAGES name different pages: "
        f"{sorted(set(VIEWS) ^ {page.name for page in PAGES})}"
    )

urlpatterns = [path(page.route, guarded(page, VIEWS[page.name]), name=page.name) for page in PAGES]
