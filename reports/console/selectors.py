"""Staff-wide reads for the console: every platform's scans (the API's selectors are platform-scoped),
the dashboard's numbers, generations.

Only staff views call these. Lists come with their relations prefetched, so a page costs a fixed
number of queries whatever its length (``tests/console`` counts them).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from generation.models import Generation
from generation.selectors import generation_number
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia, Verdict
from reports.models import Report, ReviewItem

HEX_RE = re.compile(r"^[0-9a-f]{8,64}$")
HISTORY_LIMIT = 50
THROUGHPUT_TOP = 12


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


def console_generation_find(*, generation_id: str) -> Generation | None:
    """Any platform's generation by its public id (``gen_…``); None when there is none."""
    return Generation.objects.filter(pk=generation_number(generation_id) or 0).first()


# -- the dashboard: counts per day (in the current time zone) since a moment --------------------
def scan_days(*, since: dt.datetime) -> dict[dt.date, dict[str, int]]:
    """day -> scans, and of them fakes, uncertain, reals and not applicable."""
    rows = (
        Scan.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            scans=Count("id"),
            fakes=Count("id", filter=Q(verdict=Verdict.FAKE)),
            uncertain=Count("id", filter=Q(verdict=Verdict.UNCERTAIN)),
            reals=Count("id", filter=Q(verdict=Verdict.REAL)),
            not_applicable=Count("id", filter=Q(verdict=Verdict.NOT_APPLICABLE)),
        )
    )
    return {row["day"]: row for row in rows}


def models_seen(*, since: dt.datetime) -> list[dict[str, Any]]:
    """Model name/version pairs that produced verdicts in the period, most recent first."""
    rows = (
        Scan.objects.filter(created_at__gte=since)
        .exclude(model_version="")
        .values("model_name", "model_version")
        .annotate(scans=Count("id"), last_seen=Max("completed_at"))
        .order_by("-last_seen")
    )
    return list(rows)


def report_days(*, since: dt.datetime) -> dict[dt.date, int]:
    """day -> user reports received (``Report.created_at``)."""
    rows = (
        Report.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
    )
    return {row["day"]: row["n"] for row in rows}


def _decided(since: dt.datetime) -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(decided_at__gte=since, status=ReviewItem.Status.RESOLVED)


def decision_days(*, since: dt.datetime) -> dict[dt.date, int]:
    """day -> review items resolved (``ReviewItem.decided_at``)."""
    rows = _decided(since).annotate(day=TruncDate("decided_at")).values("day").annotate(n=Count("id"))
    return {row["day"]: row["n"] for row in rows}


def decision_durations(*, since: dt.datetime) -> list[float]:
    """Seconds from creation to decision of each item resolved since ``since``."""
    return [
        (decided_at - created_at).total_seconds()
        for created_at, decided_at in _decided(since).values_list("created_at", "decided_at")
    ]


def decision_throughput(*, since: dt.datetime, top: int = THROUGHPUT_TOP) -> list[dict[str, Any]]:
    """The moderators who resolved the most items since ``since``: ``moderator``, ``decisions``."""
    rows = (
        _decided(since)
        .exclude(decided_by=None)
        .values("decided_by__username")
        .annotate(decisions=Count("id"))
        .order_by("-decisions", "decided_by__username")[:top]
    )
    return [{"moderator": r["decided_by__username"], "decisions": r["decisions"]} for r in rows]
