"""The job lifecycle scans and generations share: queued → claimed (run lock, attempt counted) →
progress → completed or failed, the stranded sweep's view of a job, and its retention purge.

A feature describes its job once (a ``JobKind``: model, lock key, time limit, how to queue it, its
webhook payload, which files expire) and registers it when its app is ready; the core reads the
registry and never imports a feature. The rows themselves share their lifecycle fields through the
abstract ``moderation.core.models.Job``.

One runner per job: a broker may deliver one task twice (the ``requeue_stranded`` sweep sent it
again, a visibility timeout ran out). On PostgreSQL a run holds the job's advisory lock
(``run_locks``) and a delivery that finds it taken is dropped; a finished job is never claimed again
(its status); a job whose worker died ``max_attempts`` times fails as ``worker_lost``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from moderation.core.media import media_delete
from moderation.core.models import Job, Platform, WebhookDelivery
from moderation.core.run_locks import run_lock, run_lock_taken, runnerless
from moderation.core.webhooks import webhook_event_create

logger = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 0.25  # progress rows are written at most this often
ERROR_CODE_MAX = 64  # Job.error_code's length
ERROR_MESSAGE_MAX = 2000
PURGE_BATCH = 200


@dataclass(frozen=True)
class MediaPurge:
    """Which stored files of a job kind expire: ``rows(platform, cutoff)`` are the rows that still
    name files older than the platform's retention; ``key_fields`` are their storage-key columns
    (emptied) and ``stamp_field`` records when the files went. The rows stay."""

    rows: Callable[[Platform, datetime], QuerySet]
    key_fields: tuple[str, ...]
    stamp_field: str


@dataclass(frozen=True)
class JobKind:
    """One kind of queued work, as the lifecycle sees it."""

    name: str  # "scan", "generation": log lines, the sweep's counts, webhook event names
    model: type[Job]
    lock_key: Callable[[Any], int]  # the run lock's signed 64-bit key of a primary key
    enqueue: Callable[[Any], bool]  # send to the workers; False when the broker is down
    time_limit_s: Callable[[], float]  # the task's hard time limit
    max_attempts: Callable[[], int]
    payload: Callable[[Any], Any] | None = None  # the webhook body (the API's view), set at app start
    notifies: Callable[[Any], bool] = lambda job: True  # whether an event of this job is sent
    delivery_links: Callable[[Any], dict[str, Any]] = lambda job: {}  # extra WebhookDelivery fields
    purge: MediaPurge | None = None
    related: Sequence[str] = ("platform",)  # select_related of the claimed row


_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Make ``kind`` known to the sweep and the purge (an app's ``ready``); registering again replaces."""
    _KINDS[kind.name] = kind


def job_kind(name: str) -> JobKind:
    return _KINDS[name]


def job_kinds() -> list[JobKind]:
    return list(_KINDS.values())


# -- one runner per job ----------------------------------------------------------------------------
def job_run_lock(kind: JobKind, pk: Any) -> AbstractContextManager[bool]:
    """The job's run lock: True if this process has it, False if another has."""
    return run_lock(kind.lock_key(pk), f"{kind.name} {pk}")


def job_is_running(kind: JobKind, pk: Any) -> bool:
    """Whether some process holds the job's run lock right now (PostgreSQL only; else False)."""
    return run_lock_taken(kind.lock_key(pk), f"{kind.name} {pk}")


def job_run(kind: JobKind, pk: Any, body: Callable[[Any], Any]) -> Any:
    """Claim job ``pk`` under its run lock and run ``body(job)``; None when another process runs
    it, when it is finished already, or when it ran out of attempts (then it is failed here)."""
    with job_run_lock(kind, pk) as held:
        if not held:
            logger.warning("%s %s is already running elsewhere; this delivery is dropped", kind.name, pk)
            return None
        job = job_claim(kind, pk)
        if job is None:
            return None
        return body(job)


def job_claim(kind: JobKind, pk: Any) -> Any:
    """Mark the job processing and count the attempt; None when there is nothing (left) to do."""
    model = kind.model
    with transaction.atomic():
        job = model.objects.select_for_update().filter(pk=pk).first()
        if job is None:
            logger.warning("%s %s no longer exists; nothing to do", kind.name, pk)
            return None
        if job.is_finished:
            return None  # a redelivery of a finished job
        if job.attempts >= kind.max_attempts():
            job_fail(
                kind, job, "worker_lost", f"The {kind.name}'s worker died {job.attempts} times; giving up."
            )
            return None
        if job.attempts:
            logger.warning("%s %s: attempt %d after a lost worker", kind.name, pk, job.attempts + 1)
        else:
            logger.info("%s %s started", kind.name, pk)  # which worker took it, for operators and drills
        job.attempts += 1
        job.status = model.Status.PROCESSING
        job.started_at = timezone.now()
        job.progress_percent = job.frames_done = job.frames_total = 0
        job.save(
            update_fields=[
                "attempts",
                "status",
                "started_at",
                "progress_percent",
                "frames_done",
                "frames_total",
            ]
        )
    return model.objects.select_related(*kind.related).get(pk=pk)


def job_notify(kind: JobKind, job: Any, event: str) -> WebhookDelivery | None:
    """``<kind>.<event>`` to the platform's webhook, with the kind's payload (inside the caller's
    transaction: the delivery row commits with the outcome it reports)."""
    if kind.payload is None or not kind.notifies(job):
        return None
    return webhook_event_create(
        platform=job.platform,
        event_type=f"{kind.name}.{event}",
        data=kind.payload(job),
        **kind.delivery_links(job),
    )


def job_fail(kind: JobKind, job: Any, code: str, message: str) -> None:
    """End the job as failed with a stable ``code`` (truncated to the column, never an error of its
    own) and notify the platform."""
    model = kind.model
    with transaction.atomic():
        model.objects.filter(pk=job.pk).update(
            status=model.Status.FAILED,
            error_code=code[:ERROR_CODE_MAX],
            error_message=message[:ERROR_MESSAGE_MAX],
            completed_at=timezone.now(),
        )
        job.refresh_from_db()
        job_notify(kind, job, "failed")
    logger.warning("%s %s failed: %s %s", kind.name, job.pk, code, message)


def job_mark_completed(job: Job) -> None:
    """Set the completed state on the row (the caller saves it with its results)."""
    job.status = type(job).Status.COMPLETED
    job.progress_percent = 100
    job.completed_at = timezone.now()


COMPLETED_FIELDS = ["status", "progress_percent", "completed_at"]


class JobProgress:
    """Writes percentage and frames done to the row while it is processing, at most every
    PROGRESS_MIN_INTERVAL_S unless forced; never 100 (only completion says that)."""

    def __init__(self, kind: JobKind, pk: Any) -> None:
        self.kind = kind
        self.pk = pk
        self.last_write = 0.0

    def __call__(self, percent: int, done: int = 0, total: int = 0, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < PROGRESS_MIN_INTERVAL_S:
            return
        self.last_write = now
        model = self.kind.model
        model.objects.filter(pk=self.pk, status=model.Status.PROCESSING).update(
            progress_percent=min(percent, 99), frames_done=done, frames_total=total
        )


def job_queue_wait_s(job: Job) -> float:
    return (job.started_at - job.created_at).total_seconds() if job.started_at else 0.0


# -- the sweep and the purge -----------------------------------------------------------------------
def job_stranded_ids(kind: JobKind, *, cutoff: datetime, limit: int) -> list[Any]:
    """Jobs whose broker message may be lost, oldest first: ``queued`` since before ``cutoff``, and
    ``processing`` since before it with no live run behind it (``run_locks.runnerless``)."""
    model = kind.model
    queued = model.objects.filter(status=model.Status.QUEUED, created_at__lt=cutoff)
    pks = list(queued.order_by("created_at").values_list("pk", flat=True)[:limit])
    pks += runnerless(
        model.objects.filter(status=model.Status.PROCESSING),
        cutoff=cutoff,
        time_limit_s=kind.time_limit_s(),
        limit=limit,
        is_running=lambda pk: job_is_running(kind, pk),
    )
    return pks


def job_media_purge(kind: JobKind, *, platform: Platform, cutoff: datetime, now: datetime) -> int:
    """Delete the expired files of one platform's jobs of this kind; files deleted."""
    if kind.purge is None:
        return 0
    purge = kind.purge
    expired = purge.rows(platform, cutoff).order_by("pk")
    deleted = 0
    while batch := list(expired.values_list("pk", *purge.key_fields)[:PURGE_BATCH]):
        keys = [key for row in batch for key in row[1:] if key]
        # Files first: a row still naming a deleted file is retried next run; the reverse leaks files.
        media_delete(keys)
        with transaction.atomic():
            expired.model.objects.filter(pk__in=[row[0] for row in batch]).update(
                **{name: "" for name in purge.key_fields}, **{purge.stamp_field: now}
            )
        deleted += len(keys)
    if deleted:
        logger.info(
            "retention: %s %s files deleted up to %s for %s", deleted, kind.name, cutoff, platform.name
        )
    return deleted
