"""The platform core's tables: tenants, their API keys, webhook deliveries and the audit log, and
the job lifecycle's fields that scans and generations share (``Job``).

Every row a platform can see hangs off a ``Platform``; selectors always filter by it.
Primary keys that appear in URLs are UUIDs, so ids are neither guessable nor countable.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MiB = 1024 * 1024


def webhook_secret_generate() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


class Platform(models.Model):
    """A tenant: one social platform integrating the scan hook, with its own settings."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="P(fake) from which media is fake; empty = the model card's.",
    )
    review_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="P(fake) from which media below the tag threshold is uncertain (never tagged); "
        "empty = the model card's review threshold.",
    )
    review_uncertain = models.BooleanField(
        default=True,
        help_text="An uncertain scan opens a review item (category model_uncertain) before anyone "
        "reports it.",
    )
    fake_hashtag = models.CharField(max_length=64, default="#Deepfake")
    observe_only = models.BooleanField(default=False, help_text="Score and record, but never add the tag.")
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=100, default=webhook_secret_generate)
    allowed_private_hosts = models.JSONField(
        default=list,
        blank=True,
        help_text="Hosts allowed to resolve to private addresses (media URLs, webhooks).",
    )
    max_upload_bytes = models.PositiveBigIntegerField(default=20 * MiB, help_text="Per media file.")
    max_video_seconds = models.PositiveIntegerField(default=300)
    retention_days = models.PositiveIntegerField(default=30, help_text="Stored media are deleted after this.")
    rate_limit = models.CharField(
        max_length=20, blank=True, help_text="API requests, e.g. 600/min. Empty: the service default."
    )
    # The shared known-deepfake bank (moderators' confirmations on sharing platforms): see BankEntry.
    use_shared_known_fakes = models.BooleanField(
        default=True,
        help_text="Scans are also checked against the shared known-deepfake bank (confirmations on the "
        "posts of every platform that shares them). Off: only this platform's own entries and "
        "FakeME's own generations.",
    )
    share_confirmed_fakes = models.BooleanField(
        default=True,
        help_text="Media a moderator confirms as a deepfake on this platform's posts go into the shared "
        "known-deepfake bank. Off: into this platform's own bank only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    """What every queued piece of work has (scans, generations): its state, progress, attempts,
    outcome and times. The lifecycle that moves them is ``moderation.core.jobs``."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started it.")
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    timings_ms = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)


class ApiKey(models.Model):
    """A platform's API key. Only its SHA-256 is stored; the key itself is shown once at creation."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The key's public start, to recognise it."
    )
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.platform})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class WebhookDelivery(models.Model):
    """One event for one platform; its body is fixed at creation so every retry signs the same bytes."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_id = models.CharField(max_length=64, unique=True, help_text="The webhook-id header: msg_...")
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="webhook_deliveries")
    scan = models.ForeignKey(
        "moderation.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    event_type = models.CharField(max_length=64)
    url = models.URLField(max_length=500)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """Every try at delivering a webhook, successful or not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    timestamp = models.BigIntegerField(help_text="The webhook-timestamp header sent.")
    started_at = models.DateTimeField()
    duration_ms = models.FloatField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]


class AuditEntry(models.Model):
    """Who did what to what, when; readable on its own after the actor or the target is deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Username, 'system' or 'platform <name>'.")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    description = models.TextField()
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    group_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Shared by a bulk action.")
    platform = models.ForeignKey(
        Platform, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    platform_label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_created"),
            models.Index(fields=["platform", "-created_at"], name="audit_platform_created"),
        ]
        verbose_name_plural = "audit entries"
        # The table the reports app created before the audit log moved to the core (issue 20).
        db_table = "reports_auditentry"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
