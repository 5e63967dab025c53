"""/api/v1/ routes of the reports app (included by moderation/api/urls.py): reports, appeals, feedback."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports", views.ReportCreateApi.as_view(), name="api-reports"),
    path("reports/<uuid:report_id>", views.ReportDetailApi.as_view(), name="api-report-detail"),
    path("scans/<uuid:scan_id>/feedback", views.ScanFeedbackApi.as_view(), name="api-scan-feedback"),
    path("appeals", views.AppealCreateApi.as_view(), name="api-appeals"),
    path("appeals/<uuid:appeal_id>", views.AppealDetailApi.as_view(), name="api-appeal-detail"),
]
