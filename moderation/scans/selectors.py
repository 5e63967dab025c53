"""Reads. Every selector takes the calling platform and never returns another platform's rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan, ScanMedia, Verdict

SCAN_FILTERS = ("external_id", "author_id", "verdict", "status")
# Each list filter and the values it takes (None: any text).
SCAN_FILTER_CHOICES: dict[str, Collection[str] | None] = {
    "external_id": None,
    "author_id": None,
    "verdict": tuple(Verdict.values),
    "status": tuple(Scan.Status.values),
}
# Cursor paging (README, OpenAPI schema): ``cursor`` from a page's next/previous link, ``page_size``.
PAGING_PARAMS = ("cursor", "page_size")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200


def list_params_clean(
    params: Mapping[str, Any], *, filters: Mapping[str, Collection[str] | None]
) -> dict[str, str]:
    """The filters of a list request, checked: a parameter the list does not know (``?limit=``), a
    value outside a filter's choices (``verdict=bogus``) or a ``page_size`` that is not 1 to
    ``MAX_PAGE_SIZE`` is a 400 ``invalid_filter`` naming it, never silently ignored."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    getlist = getattr(params, "getlist", None)
    for name in params:
        values = [str(v) for v in getlist(name)] if getlist else [str(params[name])]
        if name not in filters and name not in PAGING_PARAMS:
            known = ", ".join([*filters, *PAGING_PARAMS])
            errors[name] = [f"Unknown parameter; this list takes: {known}."]
            continue
        if len(values) != 1:
            errors[name] = ["Give this parameter once."]
            continue
        value = values[0]
        choices = filters.get(name)
        if choices is not None and value not in choices:
            errors[name] = [f"Must be one of: {', '.join(choices)}."]
        elif name == "page_size" and not (value.isdigit() and 1 <= int(value) <= MAX_PAGE_SIZE):
            errors[name] = [f"Must be a whole number from 1 to {MAX_PAGE_SIZE}."]
        elif name in filters:
            cleaned[name] = value
    if errors:
        raise ApplicationError("invalid_filter", "A query parameter is unknown or has an invalid value.",
                               status=400, fields=errors)  # fmt: skip
    return cleaned


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
