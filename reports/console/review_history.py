"""Review events of a post for its history: reports received and moderators' audit entries."""

from __future__ import annotations

from django.urls import reverse

from moderation.models import Platform
from reports.console.history import Event, scan_event
from reports.models import AuditEntry, Report, ReviewItem
from reports.selectors import ReviewItemHistory


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
    return Event(
        when=entry.created_at,
        kind=entry.action,
        what=entry.description,
    )


def history_events(history: ReviewItemHistory) -> list[Event]:
    """Scans, reports and audit entries of ``reports.selectors.review_item_history``, newest first."""
    events = [scan_event(scan) for scan in history.scans]
    events += [_report_event(r) for r in history.reports]
    # report.create entries repeat the report events above
    events += [_audit_event(a) for a in history.audit if a.action != "report.create"]
    return sorted(events, key=lambda e: e.when, reverse=True)


def review_events(*, platform: Platform, external_id: str) -> list[Event]:
    """Reports and audit entries of every review item of one post (three queries)."""
    if not external_id:
        return []
    item_ids = [
        str(pk)
        for pk in ReviewItem.objects.filter(platform=platform, external_post_id=external_id).values_list(
            "pk", flat=True
        )
    ]
    if not item_ids:
        return []
    reports = Report.objects.filter(platform=platform, external_post_id=external_id).order_by("created_at")
    audit = AuditEntry.objects.filter(target_type="review_item", target_id__in=item_ids).exclude(
        action="report.create"
    )
    return [_report_event(r) for r in reports] + [_audit_event(a) for a in audit]
