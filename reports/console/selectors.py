"""Staff-wide reads for the console: every platform's scans (the API's selectors are platform-scoped).

Only staff views call these. Lists come with their relations prefetched, so a page costs a fixed
number of queries whatever its length (``tests/console`` counts them).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from moderation.errors import ApplicationError
from moderation.models import Platform, Scan, ScanMedia

HEX_RE = re.compile(r"^[0-9a-f]{8,64}$")
HISTORY_LIMIT = 50


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def console_scan_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Scan]:
    """All scans, newest first, filtered by what the archive form offers.

    Filters (all optional): ``platform`` (Platform), ``external_id`` (exact), ``verdict``,
    ``status``, ``score_min``/``score_max`` (P(fake), inclusive), ``date_from``/``date_to``
    (inclusive days in the current time zone), ``media_hash`` (SHA-256 or PDQ hex of any media;
    8+ characters match a SHA-256 prefix).
    """
    f = filters or {}
    queryset = Scan.objects.select_related("platform").prefetch_related(
        Prefetch("media", queryset=ScanMedia.objects.order_by("index").defer("result"))
    )
    if f.get("platform"):
        queryset = queryset.filter(platform=f["platform"])
    if f.get("external_id"):
        queryset = queryset.filter(external_id=f["external_id"])
    if f.get("verdict"):
        queryset = queryset.filter(verdict=f["verdict"])
    if f.get("status"):
        queryset = queryset.filter(status=f["status"])
    if f.get("score_min") is not None:
        queryset = queryset.filter(probability__gte=f["score_min"])
    if f.get("score_max") is not None:
        queryset = queryset.filter(probability__lte=f["score_max"])
    if f.get("date_from"):
        queryset = queryset.filter(created_at__gte=_day_start(f["date_from"]))
    if f.get("date_to"):
        queryset = queryset.filter(created_at__lt=_day_start(f["date_to"] + dt.timedelta(days=1)))
    media_hash = (f.get("media_hash") or "").strip().lower()
    if media_hash:
        if len(media_hash) == 64:
            match = Q(sha256=media_hash) | Q(pdq=media_hash)
        else:
            match = Q(sha256__startswith=media_hash)
        # EXISTS, not a join: a scan with two matching media is still one row.
        queryset = queryset.filter(Exists(ScanMedia.objects.filter(match, scan=OuterRef("pk"))))
    return queryset


def console_scan_get(*, scan_id: UUID | str) -> Scan:
    scan = (
        Scan.objects.select_related("platform")
        .prefetch_related(Prefetch("media", queryset=ScanMedia.objects.order_by("index")))
        .filter(pk=scan_id)
        .first()
    )
    if scan is None:
        raise ApplicationError("not_found", "No such scan.", status=404)
    return scan


def console_scan_media_get(*, scan_id: UUID | str, index: int) -> ScanMedia:
    media = ScanMedia.objects.select_related("scan").filter(scan_id=scan_id, index=index).first()
    if media is None:
        raise ApplicationError("not_found", "No such scan media.", status=404)
    return media


def post_scan_history(*, platform: Platform, external_id: str, limit: int = HISTORY_LIMIT) -> list[Scan]:
    """Every scan of one post (the platform's post id), newest first; none for an unnamed post."""
    if not external_id:
        return []
    return list(
        Scan.objects.filter(platform=platform, external_id=external_id)
        .only(
            "id",
            "platform_id",
            "external_id",
            "created_at",
            "status",
            "verdict",
            "probability",
            "decided_by",
            "model_version",
            "tagged",
        )  # fmt: skip
        .order_by("-created_at")[:limit]
    )


def platform_list() -> QuerySet[Platform]:
    return Platform.objects.only("id", "name").order_by("name")
