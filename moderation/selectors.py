"""Reads. Every selector takes the calling platform and never returns another platform's rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from moderation.errors import ApplicationError
from moderation.models import BankEntry, Platform, Scan, ScanMedia

SCAN_FILTERS = ("external_id", "author_id", "verdict", "status")


def scan_list(
    *, platform: Platform, filters: dict[str, Any] | None = None, with_results: bool = True
) -> QuerySet[Scan]:
    """The platform's scans, newest first, media prefetched (a constant number of queries per page).

    ``with_results=False`` leaves the media's per-face/per-frame results in the database (lists).
    """
    media = ScanMedia.objects.order_by("index")
    queryset = (
        Scan.objects.filter(platform=platform)
        .select_related("platform")
        .prefetch_related(Prefetch("media", queryset=media if with_results else media.defer("result")))
    )
    for name, value in (filters or {}).items():
        if name in SCAN_FILTERS and value not in (None, ""):
            queryset = queryset.filter(**{name: value})
    return queryset


def scan_get(*, platform: Platform, scan_id: UUID | str) -> Scan:
    scan = scan_list(platform=platform).filter(pk=scan_id).first()
    if scan is None:  # another platform's scan is indistinguishable from a missing one
        raise ApplicationError("not_found", "No such scan.", status=404)
    return scan


def scan_media_get(*, platform: Platform, scan_id: UUID | str, index: int) -> ScanMedia:
    media = ScanMedia.objects.filter(scan__platform=platform, scan_id=scan_id, index=index).first()
    if media is None:
        raise ApplicationError("not_found", "No such scan media.", status=404)
    return media


def known_fake_list(*, platform: Platform) -> QuerySet[BankEntry]:
    """The known fakes this platform submitted (global and other platforms' entries are not listed)."""
    return BankEntry.objects.filter(platform=platform, bank=BankEntry.Bank.KNOWN_FAKE)


def known_fake_get(*, platform: Platform, entry_id: UUID | str) -> BankEntry:
    entry = known_fake_list(platform=platform).filter(pk=entry_id).first()
    if entry is None:
        raise ApplicationError("not_found", "No such known fake.", status=404)
    return entry
