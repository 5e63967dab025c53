"""The scan feature's tables: one scan per pre-post check, its media, and idempotency keys."""

from __future__ import annotations

import uuid

from django.db import models

from moderation.core.models import Job, Platform


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


class Scan(Job):
    """One pre-post check: a post's media and hashtags in, a verdict and the hashtags to publish out."""

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
