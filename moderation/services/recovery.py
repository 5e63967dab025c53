"""Work whose broker message was lost is sent again: the database is the truth, Redis only carries messages.

A message is lost when the broker was down as it was sent (the API still answered 202: the scan is
queued, and the delivery of a finished scan's webhook is pending), or when Redis restarted without its
data (messages waiting in a queue, retries waiting for their countdown). ``requeue_stranded``, run by
celery beat every ``REQUEUE_INTERVAL_S`` (or ``manage.py requeue_stranded``), sends again:

- scans still ``queued`` ``REQUEUE_AFTER_S`` after they were created;
- scans ``processing`` for ``REQUEUE_AFTER_S`` whose run lock no process holds (their worker died and
  its message is gone too); without PostgreSQL, which has no run lock to ask, once they have also
  been processing for longer than the task's hard time limit (``run_locks.runnerless``);
- generations likewise (``generation.services.runs.generation_stranded_ids``): ``queued``, or
  ``processing`` with no holder of their run lock;
- webhook deliveries still ``pending`` ``REQUEUE_AFTER_S`` after their attempt was due.

A message sent again may duplicate one that was only slow (a long queue). That is harmless: a scan or
a generation runs once (its run lock, then its status), a delivery is attempted under a row lock and
keeps its webhook-id.
So that a long backlog is not sent again on every sweep, an item is sent again at most once per
``REQUEUE_AFTER_S``: a marker in the cache, which lives in Redis as well, so when Redis loses its data
the markers go with the messages they stood for.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from moderation.models import Scan, WebhookDelivery
from moderation.services.run_locks import runnerless
from moderation.services.scans import scan_enqueue, scan_is_running

logger = logging.getLogger(__name__)
BATCH = 500  # items looked at per kind and sweep, oldest first


def _first_resend(kind: str, pk: Any, window_s: float) -> bool:
    """True unless this item was already sent again within the window."""
    try:
        return bool(cache.add(f"fakeme:requeued:{kind}:{pk}", 1, timeout=max(int(window_s), 1)))
    except (RedisError, OSError):
        return True  # no cache: send it; a duplicate is harmless


def _forget_resend(kind: str, pk: Any) -> None:
    try:
        cache.delete(f"fakeme:requeued:{kind}:{pk}")
    except (RedisError, OSError):
        pass


def requeue_stranded(*, now: datetime | None = None) -> dict[str, int]:
    """Send stranded scans, generations and webhook deliveries to the broker again; how many of each."""
    # Local imports: the generation app and the webhooks import this app's services.
    from generation.services.generations import generation_enqueue
    from generation.services.runs import generation_stranded_ids
    from moderation.webhooks import webhook_enqueue

    window = settings.FAKEME_SCANS["REQUEUE_AFTER_S"]
    cutoff = (now or timezone.now()) - timedelta(seconds=window)
    scans = list(
        Scan.objects.filter(status=Scan.Status.QUEUED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    scans += runnerless(
        Scan.objects.filter(status=Scan.Status.PROCESSING),
        cutoff=cutoff,
        time_limit_s=settings.FAKEME_SCANS["SCAN_TIME_LIMIT_S"],
        limit=BATCH,
        is_running=scan_is_running,
    )
    generations = generation_stranded_ids(cutoff=cutoff, limit=BATCH)
    deliveries = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )

    sent = {"scans": 0, "generations": 0, "deliveries": 0}
    for kind, pks, enqueue in (
        ("scans", scans, scan_enqueue),
        ("generations", generations, generation_enqueue),
        ("deliveries", deliveries, lambda pk: webhook_enqueue(str(pk))),
    ):
        for pk in pks:
            if not _first_resend(kind, pk, window):
                continue
            if not enqueue(pk):
                _forget_resend(kind, pk)
                logger.error("requeue_stranded: broker unavailable, stopping this sweep")
                return sent
            sent[kind] += 1
    if any(sent.values()):
        logger.warning(
            "requeue_stranded: sent again %(scans)d scan(s), %(generations)d generation(s), "
            "%(deliveries)d webhook(s)",
            sent,
        )
    return sent
