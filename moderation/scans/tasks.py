"""The scan feature's Celery task: takes the scan's id, calls the worker.

Reliability: tasks acknowledge late (settings), and ``reject_on_worker_lost`` puts a scan whose
worker process died (OOM, kill) back on the queue; ``scan_run`` counts attempts and gives up
after MAX_SCAN_ATTEMPTS so a poison video cannot loop forever. Messages the broker lost (Redis down
or restarted) are sent again by the ``requeue_stranded`` beat task (``moderation.core.recovery``).
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
    # Here, not at the top: the worker pulls in the model stack (torch), which the processes that only
    # queue scans (web in production, beat, manage.py) never need; the app registry imports this module.
    from moderation.scans.worker import scan_run

    scan_run(scan_id=scan_id)
