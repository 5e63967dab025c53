"""Hash banks: known deepfakes and allowed media, global or one platform's."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from moderation.core.models import Platform


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
    scan_media = models.ForeignKey("moderation.ScanMedia", null=True, blank=True, on_delete=models.SET_NULL)
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
