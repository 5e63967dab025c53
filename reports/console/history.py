"""The history of one post: its scans, reports and moderators' actions, newest first, as one list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from moderation.models import Platform, Scan
from reports.console.selectors import post_scan_history


@dataclass
class Event:
    when: dt.datetime
    kind: str  # scan, report, or the audit action (review.decide, ...)
    what: str
    url: str = ""
    verdict: str = ""
    status: str = ""
    probability: float | None = None
    detail: str = ""


def scan_event(scan: Scan) -> Event:
    return Event(
        when=scan.created_at,
        kind="scan",
        what=f"Scan with model {scan.model_version or '-'}",
        url=reverse("console:scan", args=[scan.id]),
        verdict=scan.verdict,
        status=scan.status,
        probability=scan.probability,
        detail="tagged" if scan.tagged else "",
    )


def scan_events(*, platform: Platform, external_id: str) -> list[Event]:
    return [scan_event(s) for s in post_scan_history(platform=platform, external_id=external_id)]


def post_history(*, platform: Platform, external_id: str) -> list[Event]:
    from reports.console.review_history import review_events

    events = scan_events(platform=platform, external_id=external_id)
    events += review_events(platform=platform, external_id=external_id)
    return sorted(events, key=lambda e: e.when, reverse=True)
