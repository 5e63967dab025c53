"""The history of one post as one list, newest first: its scans, the reports received and the
moderators' audit entries (the scan page's, from ``post_history``; the item page's, from
``history_events`` of ``reports.selectors.review_item_history``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan
from reports.console.selectors import post_scan_history
from reports.models import Report
from reports.selectors import ReviewItemHistory, post_review_records


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


def _scan_event(scan: Scan) -> Event:
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


def _report_event(report: Report) -> Event:
    comment = f"“{report.comment[:120]}” · " if report.comment else ""
    return Event(
        when=report.created_at,
        kind="report",
        what=f"{report.reporter_id} reported it: {report.get_category_display()}",
        url=reverse("console:item", args=[report.review_item_id]),
        detail=f"{comment}{report.outcome}",
    )


def _audit_event(entry: AuditEntry) -> Event:
    return Event(when=entry.created_at, kind=entry.action, what=entry.description)


def _newest_first(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.when, reverse=True)


def post_history(*, platform: Platform, external_id: str) -> list[Event]:
    """Every scan of the post, the reports on it and its review items' audit entries."""
    events = [_scan_event(s) for s in post_scan_history(platform=platform, external_id=external_id)]
    reports, audit = post_review_records(platform=platform, external_id=external_id)
    events += [_report_event(r) for r in reports] + [_audit_event(a) for a in audit]
    return _newest_first(events)


def history_events(history: ReviewItemHistory) -> list[Event]:
    """Scans, reports and audit entries of ``reports.selectors.review_item_history``, newest first."""
    events = [_scan_event(scan) for scan in history.scans]
    events += [_report_event(r) for r in history.reports]
    # report.create entries repeat the report events above
    events += [_audit_event(a) for a in history.audit if a.action != "report.create"]
    return _newest_first(events)
