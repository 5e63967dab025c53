"""Retention: delete stored media older than each platform's retention period (the files of every
registered job kind: scan media, generations' inputs and outputs; the rows stay with their hashes and
verdicts), and expired idempotency keys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from moderation.core.jobs import job_kinds, job_media_purge
from moderation.core.models import Platform

logger = logging.getLogger(__name__)

# Other expiring rows (idempotency keys), registered by the feature that owns them.
_EXTRA_PURGES: list[Callable[[], object]] = []


def retention_extra_register(purge: Callable[[], object]) -> None:
    if purge not in _EXTRA_PURGES:
        _EXTRA_PURGES.append(purge)


def media_retention_purge(*, now: datetime | None = None) -> int:
    """Delete expired files of every job kind, platform by platform. Returns files deleted."""
    now = now or timezone.now()
    deleted = 0
    for platform in Platform.objects.only("pk", "name", "retention_days"):
        cutoff = now - timedelta(days=platform.retention_days)
        for kind in job_kinds():
            files = job_media_purge(kind, platform=platform, cutoff=cutoff, now=now)
            if files:  # per platform and kind: what each one lost, not a running total
                logger.info(
                    "retention: %s %s media deleted up to %s for %s", files, kind.name, cutoff, platform.name
                )
            deleted += files
    for purge in _EXTRA_PURGES:
        purge()
    return deleted
