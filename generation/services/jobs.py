"""The generation as a job of the platform core's lifecycle (``moderation.core.jobs``): its run-lock
key, how it is queued, its limits and which files expire (source face, target, output; the record
stays with its hashes, consent and bank entry, so a later scan still names it)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet

from generation.models import Generation
from generation.services.tasks import generation_run
from moderation.core.broker import task_send
from moderation.core.jobs import JobKind, MediaPurge, job_is_running
from moderation.core.models import Platform

logger = logging.getLogger(__name__)

# Advisory-lock keys are one 64-bit space per database, shared with the scans' (the first 64 bits of
# a UUID): a generation's key is its 40-bit number under a 24-bit tag ("GEN").
_LOCK_TAG = 0x47454E << 40
_KEYS = ("source_storage_key", "target_storage_key", "output_storage_key")


def generation_lock_key(generation_id: int) -> int:
    return _LOCK_TAG | int(generation_id)


def generation_enqueue(generation_id: int) -> bool:
    """Send the generation to the workers. False when the broker cannot be reached: the generation
    stays queued (the API answers 202 all the same; the row is the truth) and the ``requeue_stranded``
    sweep (``moderation.core.recovery``) sends it again later."""
    return task_send(
        generation_run,
        generation_id,
        what=f"generation {generation_id} stays queued",
        log=logger,
        level=logging.WARNING,
    )


def _expired_files(platform: Platform, cutoff: datetime) -> QuerySet:
    """Finished generations older than the retention that still name a file. Queued or running ones
    are left alone: their worker still reads them."""
    finished = (Generation.Status.COMPLETED, Generation.Status.FAILED)
    return Generation.objects.filter(platform=platform, created_at__lt=cutoff, status__in=finished).exclude(
        source_storage_key="", target_storage_key="", output_storage_key=""
    )


GENERATION_JOBS = JobKind(
    name="generation",
    model=Generation,
    lock_key=generation_lock_key,
    enqueue=generation_enqueue,
    time_limit_s=lambda: settings.FAKEME_GENERATION["TIME_LIMIT_S"],
    max_attempts=lambda: settings.FAKEME_GENERATION["MAX_ATTEMPTS"],
    purge=MediaPurge(rows=_expired_files, key_fields=_KEYS, stamp_field="media_deleted_at"),
    related=("platform", "parent"),
)


def generation_is_running(generation_id: int) -> bool:
    """Whether some process holds the generation's run lock right now (PostgreSQL only; else False)."""
    return job_is_running(GENERATION_JOBS, generation_id)
