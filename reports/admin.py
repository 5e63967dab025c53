"""Django admin views of the review data (read-only: moderators act through the console's services)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from moderation.core.models import AuditEntry
from reports.models import Report, ReporterStats, ReviewItem


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows change only through the services, which lock, version and audit every change."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReportInline(admin.TabularInline):
    model = Report
    extra = 0
    can_delete = False
    fields = ["reporter_id", "category", "comment", "outcome", "scan", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = [
        "external_post_id",
        "platform",
        "kind",
        "status",
        "category",
        "score",
        "distinct_reporters",
        "assignee",
        "decision",
        "created_at",
    ]
    list_filter = ["status", "kind", "category", "decision", "platform"]
    search_fields = ["external_post_id", "id"]
    list_select_related = ["platform", "assignee"]
    inlines = [ReportInline]


@admin.register(ReporterStats)
class ReporterStatsAdmin(ReadOnlyAdmin):
    list_display = ["reporter_id", "platform", "agreed", "rejected", "updated_at"]
    list_filter = ["platform"]
    search_fields = ["reporter_id"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_label", "platform_label"]
    list_filter = ["action", "target_type"]
    search_fields = ["description", "target_label", "actor_label", "target_id"]
    date_hierarchy = "created_at"
