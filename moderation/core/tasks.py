"""The platform core's Celery tasks: the stranded-work sweep and retention (and, for autodiscovery,
the webhook delivery task, which lives beside the service that queues it).

They take ids, load what they need and call a service; names are stable (beat and routes use them).
"""

from __future__ import annotations

from celery import shared_task

from moderation.core.recovery import requeue_stranded as sweep
from moderation.core.retention import media_retention_purge as purge
from moderation.core.webhooks import webhook_deliver


@shared_task(name="moderation.requeue_stranded", ignore_result=True)
def requeue_stranded() -> dict[str, int]:
    return sweep()


@shared_task(name="moderation.media_retention_purge", ignore_result=True)
def media_retention_purge() -> int:
    return purge()


__all__ = ["media_retention_purge", "requeue_stranded", "webhook_deliver"]
