"""Celery tasks: they take ids, load what they need and call a service.

Reliability: tasks acknowledge late (settings), and ``reject_on_worker_lost`` puts a scan whose
worker process died (OOM, kill) back on the queue; ``scan_run`` counts attempts and gives up
after MAX_SCAN_ATTEMPTS so a poison video cannot loop forever. Messages the broker lost (Redis down
or restarted) are sent again by the ``requeue_stranded`` beat task (``moderation.services.recovery``).
The model is loaded once per worker process at start-up (signal handlers in ``moderation.celery``),
not per task.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


@shared_task(
    name="moderation.scan_process",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.FAKEME_SCANS["SCAN_SOFT_TIME_LIMIT_S"],
    time_limit=settings.FAKEME_SCANS["SCAN_TIME_LIMIT_S"],
    # The database went away mid-scan (restart, failover): try again later rather than fail the scan.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=6,
)
def scan_process(scan_id: str) -> None:
    from moderation.services.scans import scan_run

    scan_run(scan_id=scan_id)


@shared_task(name="moderation.webhook_deliver", acks_late=True, ignore_result=True)
def webhook_deliver(delivery_id: str) -> None:
    from moderation.webhooks import webhook_attempt, webhook_enqueue

    retry_in = webhook_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        webhook_enqueue(delivery_id, countdown=retry_in)


@shared_task(name="moderation.requeue_stranded", ignore_result=True)
def requeue_stranded() -> dict[str, int]:
    from moderation.services.recovery import requeue_stranded as sweep

    return sweep()


@shared_task(name="moderation.media_retention_purge", ignore_result=True)
def media_retention_purge() -> int:
    from moderation.services.retention import media_retention_purge as purge

    return purge()
