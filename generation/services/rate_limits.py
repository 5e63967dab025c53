"""Generations allowed per platform and per (platform, user): counted from the rows themselves.

Counting rows (not a cache counter) makes the limit exact across API processes: the authoritative
check runs again inside the creating transaction, with the platform row locked (PostgreSQL).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from generation.models import Generation
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """``"10/hour"`` -> (10, 3600): generations allowed per window of seconds."""
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"Bad rate {rate!r}: expected N/second|minute|hour|day.") from None


def _check(rows: QuerySet[Generation], *, limit: int, window_s: int, scope: str, who: str) -> None:
    since = timezone.now() - timedelta(seconds=window_s)
    recent = list(
        rows.filter(created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    retry_after = max(1, int((recent[-1] + timedelta(seconds=window_s) - timezone.now()).total_seconds()) + 1)
    raise ApplicationError(
        "generation_rate_limited",
        f"{who} has made {limit} generation(s) in the last {_window_text(window_s)}; "
        f"try again in {retry_after} s.",
        status=429,
        fields={"scope": scope, "limit": limit, "window_s": window_s},
        headers={"Retry-After": str(retry_after)},
    )


def _window_text(seconds: int) -> str:
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            n = seconds // size
            return name if n == 1 else f"{n} {name}s"
    return f"{seconds} s"


def generation_rate_check(*, platform: Platform, user_id: str) -> None:
    """429 ``generation_rate_limited`` (``fields.scope``: ``user`` or ``platform``) with Retry-After."""
    config = settings.FAKEME_GENERATION
    rows = Generation.objects.filter(platform=platform)
    limit, window = rate_parse(config["USER_RATE_LIMIT"])
    _check(rows.filter(user_id=user_id), limit=limit, window_s=window, scope="user", who=f"User {user_id}")
    limit, window = rate_parse(config["PLATFORM_RATE_LIMIT"])
    _check(rows, limit=limit, window_s=window, scope="platform", who=f"Platform {platform.name}")
