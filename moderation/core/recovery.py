"""Work whose broker message was lost is sent again: the database is the truth, Redis only carries messages.

A message is lost when the broker was down as it was sent (the API still answered 202: the scan is
queued, and the delivery of a finished scan's webhook is pending), or when Redis restarted without its
data (messages waiting in a queue, retries waiting for their countdown). ``requeue_stranded``, run by
celery beat every ``REQUEUE_INTERVAL_S`` (or ``manage.py requeue_stranded``), sends again:

- jobs (scans, generations) still ``queued`` ``REQUEUE_AFTER_S`` after they were created;
- jobs ``processing`` for ``REQUEUE_AFTER_S`` whose run lock no process holds (their worker died and
  its message is gone too); without PostgreSQL, which has no run lock to ask, once they have also
  been processing for longer than the task's hard time limit (``run_locks.runnerless``);
- generations likewise, and any other registered job kind (``moderation.core.jobs``);
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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from moderation.core.jobs import job_kinds, job_stranded_ids
from moderation.core.models import WebhookDelivery
from moderation.core.webhooks import webhook_enqueue

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
    """Send stranded jobs of every registered kind and webhook deliveries to the broker again; how
    many of each (``scans``, ``generations``, ``deliveries``)."""
    window = settings.FAKEME_SCANS["REQUEUE_AFTER_S"]
    cutoff = (now or timezone.now()) - timedelta(seconds=window)
    work: list[tuple[str, list[Any], Callable[[Any], bool]]] = [
        (f"{kind.name}s", job_stranded_ids(kind, cutoff=cutoff, limit=BATCH), kind.enqueue)
        for kind in job_kinds()
    ]
    deliveries = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    work.append(("deliveries", deliveries, lambda pk: webhook_enqueue(str(pk))))

    sent = {name: 0 for name, _, _ in work}
    for kind, pks, enqueue in work:
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
            "requeue_stranded: sent again %s", ", ".join(f"{n} {name}" for name, n in sent.items() if n)
        )
    return sent
