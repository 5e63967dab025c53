"""Run locks for queued work: PostgreSQL session advisory locks, so one item runs in one process.

A broker may deliver one task twice (a sweep re-sent it, or the visibility timeout ran out while it
ran); the second delivery then finds the lock taken and leaves the item to the first. The lock
belongs to the database session, so a worker that dies (SIGKILL, OOM) releases it with its
connection and the redelivered task can run. Without PostgreSQL (embedded mode: one process, tasks
in-process) there is no one to exclude, and the lock is always granted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import QuerySet

logger = logging.getLogger(__name__)


@contextmanager
def run_lock(key: int, what: str) -> Iterator[bool]:
    """Hold advisory lock ``key`` (a signed 64-bit int) while the body runs: True if this process has
    it, False if another has. ``what`` names the item in log lines."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError as exc:  # the connection broke: the lock went with it
                logger.warning("%s: advisory unlock failed: %s", what, exc)


def run_lock_taken(key: int, what: str) -> bool:
    """Whether some other process holds lock ``key`` right now (PostgreSQL only; else False)."""
    if connection.vendor != "postgresql":
        return False
    with run_lock(key, what) as held:
        return not held


def runnerless(
    processing: QuerySet,
    *,
    cutoff: datetime,
    time_limit_s: float,
    limit: int,
    is_running: Callable[[Any], bool],
) -> list[Any]:
    """Primary keys of ``processing`` rows (started since before ``cutoff``) whose run died, oldest first.

    PostgreSQL: nobody holds the row's run lock. Other databases have no lock to ask (``is_running``
    is always False there), so a row counts once it has been processing for longer than the task's
    hard time limit as well: a worker kills a run there, so no live run can still be behind it (an
    embedded process that died mid-run, say).
    """
    if connection.vendor != "postgresql":
        cutoff -= timedelta(seconds=time_limit_s)
    rows = processing.filter(started_at__lt=cutoff).order_by("started_at").values_list("pk", flat=True)
    return [pk for pk in rows[:limit] if not is_running(pk)]
