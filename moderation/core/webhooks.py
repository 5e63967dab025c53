"""Webhooks to platforms, signed per Standard Webhooks (standardwebhooks.com).

Headers: ``webhook-id`` (stable across retries), ``webhook-timestamp`` (Unix seconds of this
attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed
with the base64-decoded part of the platform's ``whsec_...`` secret. Body:
``{"type": "scan.completed" | "scan.failed", "timestamp": ISO-8601, "data": <the scan, as GET returns it>}``;
other events (``report.resolved``, ``appeal.resolved``) have the same envelope with their own ``data``.

A failed attempt (network error or non-2xx) is retried after BACKOFF_BASE_S * 2**(n-1) seconds
(±10 % jitter, capped), up to WEBHOOK_MAX_ATTEMPTS; every attempt is recorded. Embedded mode
(eager tasks, no broker) makes a single attempt: nothing could run a later retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from moderation.core import media_fetch
from moderation.core.broker import task_send
from moderation.core.models import Platform, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"


def webhook_sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_sign(secret, msg_id, timestamp, body),
    }


def webhook_backoff_s(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    config = settings.FAKEME_SCANS
    delay = min(config["WEBHOOK_BACKOFF_BASE_S"] * 2 ** (attempt - 1), config["WEBHOOK_BACKOFF_MAX_S"])
    return delay * random.uniform(0.9, 1.1)


def webhook_event_create(
    *, platform: Platform, event_type: str, data: Mapping[str, Any], scan: Any = None
) -> WebhookDelivery | None:
    """Freeze ``{"type", "timestamp", "data"}`` and queue its delivery after commit.

    Any event (``scan.completed``, ``report.resolved``, ...); None when the platform has no webhook.
    """
    if not platform.webhook_url:
        return None
    payload = {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}
    delivery = WebhookDelivery.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        platform=platform,
        scan=scan,
        event_type=event_type,
        url=platform.webhook_url,
        body=json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")),
        next_attempt_at=timezone.now(),
    )
    delivery_id = str(delivery.pk)
    transaction.on_commit(lambda: webhook_enqueue(delivery_id), robust=True)
    return delivery


def webhook_enqueue(delivery_id: str, countdown: float | None = None) -> bool:
    """Queue an attempt. False when the broker cannot be reached: the delivery stays pending and the
    ``requeue_stranded`` sweep queues it again once it is overdue (its webhook-id never changes)."""
    return task_send(
        webhook_deliver,
        delivery_id,
        what=f"webhook delivery {delivery_id} stays pending",
        log=logger,
        countdown=countdown,
    )


def webhook_attempt(*, delivery_id: str) -> float | None:
    """One delivery attempt, recorded. Returns seconds until the next try, or None when done."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("platform")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        delivery.attempt_count += 1
        number = delivery.attempt_count
        delivery.save(update_fields=["attempt_count"])

    platform = delivery.platform
    body = delivery.body.encode("utf-8")
    timestamp = int(time.time())
    started_at, t0 = timezone.now(), time.perf_counter()
    outcome = media_fetch.post(
        delivery.url,
        body=body,
        headers=webhook_headers(platform.webhook_secret, delivery.webhook_id, timestamp, body),
        allowed_hosts=platform.allowed_private_hosts,
        timeout_s=settings.FAKEME_SCANS["WEBHOOK_TIMEOUT_S"],
    )
    ok = outcome.status is not None and 200 <= outcome.status < 300
    error = outcome.error or ("" if ok else f"HTTP {outcome.status}")

    retry_in: float | None = None
    if ok:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
    elif number >= settings.FAKEME_SCANS["WEBHOOK_MAX_ATTEMPTS"] or current_app.conf.task_always_eager:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        retry_in = webhook_backoff_s(number)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            timestamp=timestamp,
            started_at=started_at,
            duration_ms=round((time.perf_counter() - t0) * 1000.0, 1),
            status_code=outcome.status,
            error=error[:500],
            response_excerpt=outcome.body_excerpt[:500],
        )
        delivery.save(update_fields=["status", "next_attempt_at"])
    log = logger.info if ok else logger.warning
    log("webhook %s attempt %d to %s: %s", delivery.webhook_id, number, delivery.url, error or outcome.status)
    return retry_in


@shared_task(name="moderation.webhook_deliver", acks_late=True, ignore_result=True)
def webhook_deliver(delivery_id: str) -> None:
    """The delivery task: one attempt, and the next one queued when it failed."""
    retry_in = webhook_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        webhook_enqueue(delivery_id, countdown=retry_in)
