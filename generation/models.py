"""Generation records (one face swap each, watermarked with its own number) and protected identities.

A generation's primary key is its watermark payload: a random 40-bit number (never 0), so the mark
recovered from any copy of the output names the record (``gen_`` + 10 hex digits, see
``moderation.provenance.watermarks``). Random, not sequential: ids are neither guessable nor countable.
"""

from __future__ import annotations

import uuid

from django.db import models

from moderation.core.models import Job, Platform
from moderation.provenance.models import BankEntry
from watermark.ids import generation_id_for_payload

CONSENT_MAX_LENGTH = 2000


class MediaKind(models.TextChoices):
    IMAGE = "image"
    VIDEO = "video"


class Generation(Job):
    """Who asked for which swap, with what consent, how it went, and where its output is stored."""

    class Engine(models.TextChoices):
        LANDMARK = "landmark", "built-in landmark engine"
        SIMSWAP = "simswap", "SimSwap"

    id = models.PositiveBigIntegerField(
        primary_key=True, editable=False, help_text="The watermark payload: random 40 bits, never 0."
    )
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="generations")
    user_id = models.CharField(max_length=255, help_text="The platform's user who asked for it.")
    consent_statement = models.TextField(max_length=CONSENT_MAX_LENGTH)
    engine = models.CharField(max_length=16, choices=Engine.choices)
    seed = models.PositiveIntegerField()
    options = models.JSONField(default=dict, blank=True, help_text="The options the caller set.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="regenerations"
    )
    # Inputs: hashes always; the files themselves are kept for regenerate and the console.
    source_sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=16)
    source_size_bytes = models.PositiveBigIntegerField()
    source_storage_key = models.CharField(max_length=255, blank=True)
    target_kind = models.CharField(max_length=8, choices=MediaKind.choices)
    target_sha256 = models.CharField(max_length=64)
    target_format = models.CharField(max_length=16)
    target_size_bytes = models.PositiveBigIntegerField()
    target_storage_key = models.CharField(max_length=255, blank=True)
    # Progress and outcome.
    result = models.JSONField(default=dict, blank=True, help_text="Engine settings used, faces, frames.")
    # The output (always watermarked with ``id``) and its known-fake bank entry.
    output_kind = models.CharField(max_length=8, choices=MediaKind.choices, blank=True)
    output_format = models.CharField(max_length=16, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    output_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    output_storage_key = models.CharField(max_length=255, blank=True)
    output_pdq = models.CharField(max_length=64, blank=True)
    output_pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    bank_entry = models.ForeignKey(
        BankEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    media_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When retention deleted its files (the record stays)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["platform", "-created_at"], name="generation_platform_created"),
            models.Index(fields=["platform", "user_id", "-created_at"], name="generation_platform_user"),
        ]

    def __str__(self) -> str:
        return f"generation {self.generation_id} ({self.status})"

    @property
    def generation_id(self) -> str:
        return generation_id_for_payload(self.id)

    @property
    def label(self) -> str:
        """For audit entries: which swap, for whom."""
        name = self.platform.name if self.platform_id else "?"
        return f"{self.generation_id} for user {self.user_id} ({name})"


class ProtectedIdentity(models.Model):
    """A face a platform refuses to have swapped (e.g. a public figure who opted out).

    Only dlib's 128-d descriptor is kept, never the photo: generation refuses any source or
    target face within ``FAKEME_GENERATION["PROTECTED_IDENTITY_DISTANCE"]`` of it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="protected_identities")
    label = models.CharField(max_length=200, blank=True, help_text="Who this is, for the platform.")
    descriptor = models.JSONField(help_text="dlib's 128-d face descriptor.")
    image_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the photo it came from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "protected identities"

    def __str__(self) -> str:
        return f"protected identity {self.label or self.pk}"
