"""``Idempotency-Key``: the same key and request content give back the same scan for 24 hours.

The fingerprint covers what the request means, not its bytes (a multipart boundary differs on
every send): the form fields, the media URLs, the SHA-256 of every uploaded file, and ``async``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from moderation.scans.models import IdempotencyKey, Scan

MAX_KEY_LENGTH = 255


def idempotency_fingerprint(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key_check(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
        )
    return key


def idempotency_lookup(*, platform: Platform, key: str, fingerprint: str) -> Scan | None:
    """The scan made earlier with this key, or None. A different request under the same key is a 409."""
    record = (
        IdempotencyKey.objects.select_related("scan")
        .filter(platform=platform, key=key, expires_at__gt=timezone.now())
        .first()
    )
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise ApplicationError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
            status=409,
        )
    return record.scan


def idempotency_record(*, platform: Platform, key: str, fingerprint: str, scan: Scan) -> IdempotencyKey:
    """Store the key (call inside the scan's transaction; an expired record with the key is replaced)."""
    now = timezone.now()
    IdempotencyKey.objects.filter(platform=platform, key=key, expires_at__lte=now).delete()
    ttl = timedelta(hours=settings.FAKEME_SCANS["IDEMPOTENCY_TTL_HOURS"])
    return IdempotencyKey.objects.create(
        platform=platform, key=key, fingerprint=fingerprint, scan=scan, expires_at=now + ttl
    )


def idempotency_purge_expired() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
