"""Django admin for staff: platforms and their keys (until the console issue), scans, banks, webhooks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from moderation.core.models import ApiKey, Platform, WebhookAttempt, WebhookDelivery
from moderation.core.platforms import api_key_create, api_key_revoke, platform_update
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan, ScanMedia

# Django 6 makes "https" the scheme a bare "example.com" gets; say so now (and silence 5.x's warning).
URL_FIELDS_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Platform | None = None) -> bool:
        return False  # keys are made by the "Create an API key" action, which shows the key once


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_HTTPS
    list_display = [
        "name",
        "is_active",
        "observe_only",
        "threshold",
        "review_threshold",
        "review_uncertain",
        "fake_hashtag",
        "retention_days",
        "created_at",
    ]
    list_filter = ["is_active", "observe_only"]
    search_fields = ["name"]
    inlines = [ApiKeyInline]
    actions = ["create_api_key"]

    def save_model(self, request: HttpRequest, obj: Platform, form: Any, change: bool) -> None:
        """Changes go through the service, which validates them and writes the audit entry."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        platform_update(platform=obj, user=request.user, **fields)

    @admin.action(description="Create an API key (shown once)")
    def create_api_key(self, request: HttpRequest, queryset: QuerySet[Platform]) -> None:
        for platform in queryset:
            _, raw = api_key_create(platform=platform, name="admin", created_by=request.user)
            messages.warning(
                request, f"New API key for {platform.name} (copy it now, it is not shown again): {raw}"
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "platform", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["platform"]
    search_fields = ["prefix", "name", "platform__name"]
    readonly_fields = [
        "platform",
        "prefix",
        "key_hash",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(api_key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")


class ScanMediaInline(admin.TabularInline):
    model = ScanMedia
    extra = 0
    can_delete = False
    fields = [
        "index",
        "kind",
        "format",
        "size_bytes",
        "sha256",
        "pdq",
        "verdict",
        "probability",
        "decided_by",
    ]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "platform",
        "external_id",
        "status",
        "verdict",
        "probability",
        "decided_by",
        "created_at",
    ]
    list_filter = ["platform", "status", "verdict", "decided_by", "mode"]
    search_fields = ["id", "external_id", "author_id"]
    list_select_related = ["platform"]
    inlines = [ScanMediaInline]


@admin.register(BankEntry)
class BankEntryAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_HTTPS
    list_display = ["id", "bank", "source", "platform", "pdq_quality", "created_at"]
    list_filter = ["bank", "source", "platform"]
    search_fields = ["sha256", "pdq", "note"]
    readonly_fields = ["created_at", "created_by", "scan_media"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "webhook_id",
        "platform",
        "event_type",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["platform", "status", "event_type"]
    inlines = [WebhookAttemptInline]
