"""Retention: delete stored media older than each platform's retention period; expired idempotency keys."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from moderation.models import Platform, ScanMedia
from moderation.services.idempotency import idempotency_purge_expired
from moderation.services.media import media_delete

logger = logging.getLogger(__name__)
BATCH = 500


def media_retention_purge(*, now: datetime | None = None) -> int:
    """Delete expired media files of scans and generations (the rows stay, with their hashes and
    verdicts). Returns files deleted."""
    now = now or timezone.now()
    deleted = 0
    for platform in Platform.objects.only("pk", "name", "retention_days"):
        cutoff = now - timedelta(days=platform.retention_days)
        platform_deleted = 0
        expired = (
            ScanMedia.objects.filter(scan__platform=platform, scan__created_at__lt=cutoff)
            .exclude(storage_key="")
            .order_by("pk")
        )
        while batch := list(expired.values_list("pk", "storage_key")[:BATCH]):
            # Files first: a row naming a deleted file is retried next run; the reverse would leak files.
            media_delete([key for _, key in batch])
            with transaction.atomic():
                ScanMedia.objects.filter(pk__in=[pk for pk, _ in batch]).update(
                    storage_key="", deleted_at=now
                )
            platform_deleted += len(batch)
        if platform_deleted:
            logger.info(
                "retention: %s media deleted up to %s for %s", platform_deleted, cutoff, platform.name
            )
        deleted += platform_deleted
    # Generations keep their files for the same period (inputs are photos of real people).
    from generation.services.retention import generation_media_purge

    deleted += generation_media_purge(now=now)
    idempotency_purge_expired()
    return deleted
