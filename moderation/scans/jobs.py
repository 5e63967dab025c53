"""The scan as a job of the platform core's lifecycle (``moderation.core.jobs``): its run-lock key,
how it is queued, its limits, which of its events reach the platform, and which files expire."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet

from moderation.core.broker import task_send
from moderation.core.jobs import JobKind, MediaPurge, job_is_running
from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.tasks import scan_process

logger = logging.getLogger(__name__)


def scan_lock_key(scan_id: Any) -> int:
    """The scan's PostgreSQL advisory-lock key: the first 64 bits of its UUID, as a signed bigint
    (generations use a tagged 40-bit number in the same space: ``generation.services.jobs``)."""
    return int.from_bytes(UUID(str(scan_id)).bytes[:8], "big", signed=True)


def scan_enqueue(scan_id: Any) -> bool:
    """Send the scan to the workers. False when the broker cannot be reached: the scan stays queued
    (the API answers 202 all the same) and the ``requeue_stranded`` sweep sends it again later."""
    return task_send(scan_process, str(scan_id), what=f"scan {scan_id} stays queued", log=logger)


def _expired_media(platform: Platform, cutoff: datetime) -> QuerySet:
    return ScanMedia.objects.filter(scan__platform=platform, scan__created_at__lt=cutoff).exclude(
        storage_key=""
    )


SCAN_JOBS = JobKind(
    name="scan",
    model=Scan,
    lock_key=scan_lock_key,
    enqueue=scan_enqueue,
    time_limit_s=lambda: settings.FAKEME_SCANS["SCAN_TIME_LIMIT_S"],
    max_attempts=lambda: settings.FAKEME_SCANS["MAX_SCAN_ATTEMPTS"],
    # Synchronous scans answer in the response itself; only queued ones call back.
    notifies=lambda scan: scan.mode == Scan.Mode.ASYNC,
    delivery_links=lambda scan: {"scan": scan},
    purge=MediaPurge(rows=_expired_media, key_fields=("storage_key",), stamp_field="deleted_at"),
)


def scan_is_running(scan_id: Any) -> bool:
    """Whether some process holds the scan's run lock right now (PostgreSQL only; else False)."""
    return job_is_running(SCAN_JOBS, scan_id)
