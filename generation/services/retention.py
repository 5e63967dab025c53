"""Retention for generations: their stored files (source face, target, output) expire with the
platform's retention period, like scan media. The record stays: hashes, consent, engine, the
watermark payload and the output's known-fake bank entry, so a later scan still names it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from generation.models import Generation
from moderation.models import Platform
from moderation.services.media import media_delete

logger = logging.getLogger(__name__)
BATCH = 200
_KEYS = ("source_storage_key", "target_storage_key", "output_storage_key")
_FINISHED = (Generation.Status.COMPLETED, Generation.Status.FAILED)


def generation_media_purge(*, now: datetime | None = None) -> int:
    """Delete the files of finished generations older than their platform's retention. Returns
    files deleted. Queued or running generations are left alone: their worker still reads them."""
    now = now or timezone.now()
    deleted = 0
    for platform in Platform.objects.only("pk", "name", "retention_days"):
        cutoff = now - timedelta(days=platform.retention_days)
        platform_deleted = 0
        expired = (
            Generation.objects.filter(platform=platform, created_at__lt=cutoff, status__in=_FINISHED)
            .exclude(source_storage_key="", target_storage_key="", output_storage_key="")
            .order_by("pk")
        )
        while batch := list(expired.values_list("pk", *_KEYS)[:BATCH]):
            keys = [key for row in batch for key in row[1:] if key]
            # Files first: a row still naming a deleted file is retried next run; the reverse leaks files.
            media_delete(keys)
            with transaction.atomic():
                Generation.objects.filter(pk__in=[row[0] for row in batch]).update(
                    **{name: "" for name in _KEYS}, media_deleted_at=now
                )
            platform_deleted += len(keys)
        if platform_deleted:
            logger.info(
                "retention: %s generation files deleted up to %s for %s",
                platform_deleted,
                cutoff,
                platform.name,
            )
        deleted += platform_deleted
    return deleted
