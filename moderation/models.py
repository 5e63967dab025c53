"""Tenants, their API keys, scans with their media, hash banks, idempotency keys and webhook deliveries.

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


class Verdict(models.TextChoices):
    FAKE = "fake"
    UNCERTAIN = "uncertain"  # between the review and the tag threshold: not tagged, seen by a person
    REAL = "real"
    NOT_APPLICABLE = "not_applicable"


class DecidedBy(models.TextChoices):
    MODEL = "model"
    BANK = "bank"
    WATERMARK = "watermark"
    PROVENANCE = "provenance"  # an intact Content Credentials manifest declaring generative AI


class Scan(models.Model):
    """One pre-post check: a post's media and hashtags in, a verdict and the hashtags to publish out."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    class Mode(models.TextChoices):
        SYNC = "sync"
        ASYNC = "async"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="scans")
    external_id = models.CharField(max_length=255, blank=True, help_text="The platform's post id.")
    author_id = models.CharField(max_length=255, blank=True)
    hashtags_in = models.JSONField(default=list)
    hashtags_out = models.JSONField(default=list)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started it.")
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    probability = models.FloatField(null=True, blank=True)
    decided_by = models.CharField(max_length=16, choices=DecidedBy.choices, blank=True)
    reasons = models.JSONField(default=list)
    observe_only = models.BooleanField(default=False, help_text="The platform's mode when scanned.")
    tagged = models.BooleanField(default=False, help_text="The fake hashtag was added.")
    threshold = models.FloatField(null=True, blank=True, help_text="The threshold the verdict used.")
    review_threshold = models.FloatField(
        null=True, blank=True, help_text="The review threshold the verdict used (empty: no uncertain band)."
    )
    model_name = models.CharField(max_length=200, blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    model_threshold = models.FloatField(null=True, blank=True, help_text="The model card's threshold.")
    known_matches = models.JSONField(default=list)
    watermark = models.JSONField(null=True, blank=True)
    timings_ms = models.JSONField(default=dict)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["platform", "-created_at"], name="scan_platform_created"),
            models.Index(fields=["platform", "external_id"], name="scan_platform_external"),
        ]

    def __str__(self) -> str:
        return f"scan {self.id} ({self.status})"


class ScanMedia(models.Model):
    """One image or video of a scan: where it is stored, its hashes and its own result."""

    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="media")
    index = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    format = models.CharField(max_length=16, help_text="Sniffed from the content: jpeg, png, mp4, ...")
    source_url = models.URLField(max_length=2000, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    pdq = models.CharField(max_length=64, blank=True, help_text="PDQ perceptual hash (hex), images only.")
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    storage_key = models.CharField(max_length=255, blank=True, help_text="Empty once deleted.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    probability = models.FloatField(null=True, blank=True)
    decided_by = models.CharField(max_length=16, choices=DecidedBy.choices, blank=True)
    reasons = models.JSONField(default=list)
    result = models.JSONField(null=True, blank=True, help_text="The engine's result: faces, frames, timings.")
    known_matches = models.JSONField(default=list)
    watermark = models.JSONField(null=True, blank=True)
    signals = models.JSONField(
        default=dict, blank=True, help_text="Each signal: applied, its value, or the reason it did not apply."
    )
    credentials = models.JSONField(
        null=True, blank=True, help_text="The Content Credentials (C2PA) manifest summary, when read."
    )

    class Meta:
        ordering = ["scan", "index"]
        constraints = [models.UniqueConstraint(fields=["scan", "index"], name="scan_media_unique_index")]
        verbose_name_plural = "scan media"

    def __str__(self) -> str:
        return f"{self.kind} {self.index} of {self.scan_id}"


class BankEntry(models.Model):
    """A perceptual hash in the known-deepfake bank or the allow bank.

    ``platform`` set: the entry belongs to, and only applies to, that platform (what it submitted
    itself; what moderators decided on its posts, except confirmations it shares). ``platform``
    empty: a shared entry, checked for every platform that uses the shared known-deepfake bank
    (``Platform.use_shared_known_fakes``): moderators' confirmations on the posts of platforms that
    share them (``Platform.share_confirmed_fakes``), and FakeME's own generations (checked for every
    platform). The allow bank is per platform: a moderator's clearing applies to the platform whose
    post it was (shared allow entries can only be made by staff in the admin).

    One entry per media (SHA-256) per bank and owner.
    """

    class Bank(models.TextChoices):
        KNOWN_FAKE = "known_fake"
        ALLOW = "allow"

    class Source(models.TextChoices):
        PLATFORM = "platform"
        MODERATOR = "moderator"
        GENERATION = "generation"  # FakeME's own generator registered its output

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bank = models.CharField(max_length=16, choices=Bank.choices)
    platform = models.ForeignKey(
        Platform, null=True, blank=True, on_delete=models.CASCADE, related_name="bank_entries"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    scan_media = models.ForeignKey(ScanMedia, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["bank", "platform"], name="bank_entry_bank_platform")]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "platform", "sha256"],
                condition=models.Q(platform__isnull=False),
                name="bank_entry_one_per_media_per_platform",
            ),
            models.UniqueConstraint(
                fields=["bank", "sha256"],
                condition=models.Q(platform__isnull=True),
                name="bank_entry_one_shared_per_media",
            ),
        ]
        verbose_name_plural = "bank entries"

    def __str__(self) -> str:
        return f"{self.bank} {self.pdq[:12] or self.sha256[:12]}"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a platform sent, the request it came with, and the scan it made."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's content.")
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "key"], name="idempotency_platform_key")]


class WebhookDelivery(models.Model):
    """One event for one platform; its body is fixed at creation so every retry signs the same bytes."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_id = models.CharField(max_length=64, unique=True, help_text="The webhook-id header: msg_...")
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="webhook_deliveries")
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks")
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
