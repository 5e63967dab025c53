"""Reads for the review console and the reports API.

Console selectors (staff) see every platform; API selectors take the calling platform and never
return another platform's rows (a 404, like a missing one). Filters accept model instances or
the strings a query string carries; a value that cannot mean anything is a 400 ``invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan, ScanMedia, Verdict
from reports.models import Category, Report, ReporterStats, ReviewItem, ScanFeedback

ACTIVE = "active"  # status filter: open or escalated
UNASSIGNED = "none"  # assignee filter: nobody
QUEUE_ORDERS: dict[str, tuple[str, ...]] = {
    "-score": ("-score", "created_at"),  # most urgent first (default)
    "score": ("score", "created_at"),
    "created_at": ("created_at",),  # oldest first
    "-created_at": ("-created_at",),  # newest first
    "-updated_at": ("-updated_at",),
}


def _invalid(name: str, message: str) -> ApplicationError:
    return ApplicationError("invalid", f"Invalid filter {name}: {message}", fields={name: [message]})


def _uuid(name: str, value: Any) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise _invalid(name, "not an id.") from None


def _bound(name: str, value: date | datetime | str, *, end: bool) -> tuple[str, datetime]:
    """(lookup, moment). A date means its whole day in the current time zone: from its start, or
    before the next day's start; a date-time is taken as it is (inclusive)."""
    if isinstance(value, str):
        # A bare date first: parse_datetime would read one as midnight.
        parsed: date | datetime | None = parse_date(value) or parse_datetime(value)
        if parsed is None:
            raise _invalid(name, "expected YYYY-MM-DD or an ISO 8601 date-time.")
        value = parsed
    if isinstance(value, datetime):
        return ("lte" if end else "gte"), value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if end else value
    return ("lt" if end else "gte"), timezone.make_aware(datetime.combine(day, time.min))


def _choices(name: str, value: str | Sequence[str], allowed: Sequence[str]) -> list[str]:
    values = [value] if isinstance(value, str) else list(value)
    values = [v for part in values for v in str(part).split(",") if v]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise _invalid(name, f"{', '.join(bad)} is not one of {', '.join(allowed)}.")
    return values


def _date_range(queryset: QuerySet[Any], field: str, date_from: Any, date_to: Any) -> QuerySet[Any]:
    for name, value, end in (("date_from", date_from, False), ("date_to", date_to, True)):
        if value not in (None, ""):
            lookup, moment = _bound(name, value, end=end)
            queryset = queryset.filter(**{f"{field}__{lookup}": moment})
    return queryset


# -- the queue ------------------------------------------------------------------------------
def review_queue(
    *,
    platform: Platform | UUID | str | None = None,
    status: str | Sequence[str] | None = ACTIVE,
    category: str | Sequence[str] | None = None,
    assignee: AbstractBaseUser | int | str | None = None,
    verdict: str | Sequence[str] | None = None,
    decision: str | Sequence[str] | None = None,
    kind: str | None = None,
    date_from: date | datetime | str | None = None,
    date_to: date | datetime | str | None = None,
    order: str = "-score",
) -> QuerySet[ReviewItem]:
    """Review items for the console, with platform, assignee, deciders and latest scan joined.

    - ``status``: ``open``, ``escalated``, ``resolved``, several (list or comma-separated), or
      ``active`` (open + escalated, the default); None or "" = all.
    - ``assignee``: a user, a user id, or ``"none"`` for unassigned items.
    - ``verdict``: the latest scan's verdict (``fake``, ``real``, ``not_applicable``);
      ``decision``: the moderator's (``confirmed``, ``dismissed``, ...).
    - ``date_from`` / ``date_to``: on ``created_at``; a date covers its whole day.
    - ``order``: one of QUEUE_ORDERS (``-score`` most urgent first, ``created_at`` oldest first).
    """
    if order not in QUEUE_ORDERS:
        raise _invalid("order", f"one of {', '.join(QUEUE_ORDERS)}.")
    items = ReviewItem.objects.select_related("platform", "assignee", "decided_by", "scan")
    if platform not in (None, ""):
        items = items.filter(
            platform_id=platform.pk if isinstance(platform, Platform) else _uuid("platform", platform)
        )
    if status not in (None, ""):
        assert status is not None
        wanted = _choices("status", status, [*ReviewItem.Status.values, ACTIVE])
        if ACTIVE in wanted:
            wanted = [s for s in wanted if s != ACTIVE] + [
                ReviewItem.Status.OPEN,
                ReviewItem.Status.ESCALATED,
            ]
        items = items.filter(status__in=wanted)
    if category not in (None, ""):
        assert category is not None
        items = items.filter(category__in=_choices("category", category, Category.values))
    if assignee not in (None, ""):
        if assignee == UNASSIGNED:
            items = items.filter(assignee__isnull=True)
        elif isinstance(assignee, AbstractBaseUser):
            items = items.filter(assignee_id=assignee.pk)
        else:
            try:
                items = items.filter(assignee_id=int(assignee))
            except (TypeError, ValueError):
                raise _invalid("assignee", "a user id or 'none'.") from None
    if verdict not in (None, ""):
        assert verdict is not None
        items = items.filter(scan__verdict__in=_choices("verdict", verdict, Verdict.values))
    if decision not in (None, ""):
        assert decision is not None
        items = items.filter(decision__in=_choices("decision", decision, ReviewItem.Decision.values))
    if kind not in (None, ""):
        assert kind is not None
        items = items.filter(kind__in=_choices("kind", kind, ReviewItem.Kind.values))
    items = _date_range(items, "created_at", date_from, date_to)
    return items.order_by(*QUEUE_ORDERS[order])


def review_item_get(*, item_id: UUID | str) -> ReviewItem:
    """One item for the console, reports (with their re-scans) prefetched; 404 ``not_found``."""
    try:
        UUID(str(item_id))
    except ValueError:
        raise ApplicationError("not_found", "No such review item.", status=404) from None
    item = (
        ReviewItem.objects.select_related("platform", "assignee", "decided_by", "scan", "appeal_of")
        .prefetch_related(
            Prefetch("reports", queryset=Report.objects.select_related("scan").order_by("created_at"))
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise ApplicationError("not_found", "No such review item.", status=404)
    return item


@dataclass
class ItemMedia:
    """One distinct media (by SHA-256) of a review item, with where it came from."""

    media: ScanMedia  # the row whose result is shown: the newest completed scan's, else the newest
    sources: list[str]  # who sent it: "scan" (the post's own scan) or "report by <reporter>"


def _item_scan_sources(item: ReviewItem) -> dict[UUID, list[str]]:
    """scan id -> who sent its media: the item's own scan, its reports' re-scans (an appeal: the
    appealed confirmation's)."""
    sources: dict[UUID, list[str]] = {}
    if item.scan_id:
        sources.setdefault(item.scan_id, []).append("scan of the post")
    report_item_id = item.pk if item.kind == ReviewItem.Kind.REPORT else item.appeal_of_id
    if report_item_id is not None:
        rows = Report.objects.filter(review_item_id=report_item_id).exclude(scan=None)
        for scan_id, reporter in rows.order_by("created_at").values_list("scan_id", "reporter_id"):
            sources.setdefault(scan_id, []).append(f"report by {reporter}")
    if item.kind == ReviewItem.Kind.APPEAL and item.appeal_of is not None and item.appeal_of.scan_id:
        sources.setdefault(item.appeal_of.scan_id, []).append("scan of the post")
    return sources


def review_item_media(*, item: ReviewItem) -> list[ItemMedia]:
    """Every distinct media of the item (by SHA-256), oldest first: what the item page shows as
    evidence, and the only media a decision can put into a bank. Two queries."""
    sources = _item_scan_sources(item)
    rows = (
        ScanMedia.objects.filter(scan_id__in=list(sources))
        .select_related("scan", "scan__platform")
        .order_by("scan__created_at", "index")
    )
    found: dict[str, ItemMedia] = {}
    for row in rows:
        seen = found.get(row.sha256)
        who = sources[row.scan_id]
        if seen is None:
            found[row.sha256] = ItemMedia(media=row, sources=list(who))
            continue
        seen.sources += [s for s in who if s not in seen.sources]
        # newer rows win, but a completed scan's result beats a newer scan still waiting
        if row.scan.status == Scan.Status.COMPLETED or seen.media.scan.status != Scan.Status.COMPLETED:
            seen.media = row
    return list(found.values())


@dataclass
class ReviewItemHistory:
    """Everything FakeME knows about the item's post, oldest first."""

    items: list[ReviewItem]  # every review item of the post (earlier rounds, appeals), this one included
    reports: list[Report]  # every report on the post
    scans: list[Scan]  # every scan of the post, media prefetched (without per-face results)
    audit: list[AuditEntry]  # every audit entry about those items


def review_item_history(*, item: ReviewItem) -> ReviewItemHistory:
    """Five queries, however long the history."""
    post = {"platform_id": item.platform_id}
    items = list(
        ReviewItem.objects.filter(**post, external_post_id=item.external_post_id)
        .select_related("decided_by", "assignee")
        .order_by("created_at")
    )
    reports = list(
        Report.objects.filter(**post, external_post_id=item.external_post_id).order_by("created_at")
    )
    scans = list(
        Scan.objects.filter(**post, external_id=item.external_post_id)
        .prefetch_related(Prefetch("media", queryset=ScanMedia.objects.order_by("index").defer("result")))
        .order_by("created_at")
    )
    audit = list(
        AuditEntry.objects.filter(target_type="review_item", target_id__in=[str(i.pk) for i in items])
        .select_related("actor")
        .order_by("created_at")
    )
    return ReviewItemHistory(items=items, reports=reports, scans=scans, audit=audit)


def review_item_reporters(*, item: ReviewItem) -> list[tuple[Report, ReporterStats | None]]:
    """The item's reports (prefetched by ``review_item_get``), each with its reporter's track record
    on the platform (None for a new reporter); one query."""
    reports = list(item.reports.all())
    stats = {
        s.reporter_id: s
        for s in ReporterStats.objects.filter(
            platform_id=item.platform_id, reporter_id__in={r.reporter_id for r in reports}
        )
    }
    return [(report, stats.get(report.reporter_id)) for report in reports]


def review_item_last_audit(*, item: ReviewItem) -> AuditEntry | None:
    """The item's latest audit entry (what a moderator who lost a race is told happened)."""
    return (
        AuditEntry.objects.filter(target_type="review_item", target_id=str(item.pk))
        .order_by("-created_at")
        .first()
    )


def review_item_latest_rescan(*, item: ReviewItem) -> Scan | None:
    """The newest re-scan of the item's reports (an item reported before any scan has only those)."""
    report = item.reports.exclude(scan=None).select_related("scan").order_by("-created_at").first()
    return report.scan if report is not None else None


def review_item_versions(*, item_ids: Sequence[str]) -> dict[str, int]:
    """item id -> its current version, for the ids that exist."""
    return {str(pk): v for pk, v in ReviewItem.objects.filter(pk__in=item_ids).values_list("pk", "version")}


def review_items_rescanned_by(*, scan: Scan) -> list[ReviewItem]:
    """The active items one of whose reports the scan is the re-scan of (platform and scan joined)."""
    item_ids = list(Report.objects.filter(scan_id=scan.pk).values_list("review_item_id", flat=True))
    if not item_ids:
        return []
    items = ReviewItem.objects.filter(pk__in=item_ids).exclude(status=ReviewItem.Status.RESOLVED)
    return list(items.select_related("platform", "scan"))


def post_review_records(*, platform: Platform, external_id: str) -> tuple[list[Report], list[AuditEntry]]:
    """Every report on one post and the audit entries of its review items but ``report.create``
    (which repeat the reports); three queries."""
    if not external_id:
        return [], []
    item_ids = [
        str(pk)
        for pk in ReviewItem.objects.filter(platform=platform, external_post_id=external_id).values_list(
            "pk", flat=True
        )
    ]
    if not item_ids:
        return [], []
    reports = Report.objects.filter(platform=platform, external_post_id=external_id).order_by("created_at")
    audit = AuditEntry.objects.filter(target_type="review_item", target_id__in=item_ids).exclude(
        action="report.create"
    )
    return list(reports), list(audit)


# -- audit ----------------------------------------------------------------------------------
AUDIT_FILTERS = (
    "actor",
    "action",
    "target_type",
    "target_id",
    "platform",
    "group_id",
    "date_from",
    "date_to",
    "q",
)


def audit_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[AuditEntry]:
    """Audit entries, newest first. Filters (all optional, unknown keys ignored):

    ``actor`` (user, user id or username; ``system`` for system actions), ``action`` (exact, or a
    prefix ending in ``.`` such as ``review.``), ``target_type``, ``target_id``, ``platform``
    (instance or id), ``group_id`` (a bulk action), ``date_from``/``date_to`` and ``q`` (words in
    the description or target label).
    """
    entries = AuditEntry.objects.select_related("actor", "platform").order_by("-created_at")
    values = {k: v for k, v in (filters or {}).items() if k in AUDIT_FILTERS and v not in (None, "")}
    actor = values.get("actor")
    if isinstance(actor, AbstractBaseUser):
        entries = entries.filter(actor_id=actor.pk)
    elif isinstance(actor, int) or (isinstance(actor, str) and actor.isdigit()):
        entries = entries.filter(actor_id=int(actor))
    elif actor is not None:
        entries = entries.filter(actor_label=str(actor))
    action = values.get("action")
    if action is not None:
        entries = (
            entries.filter(action__startswith=action)
            if action.endswith(".")
            else entries.filter(action=action)
        )
    for name in ("target_type", "target_id"):
        if name in values:
            entries = entries.filter(**{name: str(values[name])})
    platform = values.get("platform")
    if platform is not None:
        entries = entries.filter(
            platform_id=platform.pk if isinstance(platform, Platform) else _uuid("platform", platform)
        )
    if "group_id" in values:
        entries = entries.filter(group_id=_uuid("group_id", values["group_id"]))
    if "q" in values:
        for word in str(values["q"]).split():
            entries = entries.filter(Q(description__icontains=word) | Q(target_label__icontains=word))
    return _date_range(entries, "created_at", values.get("date_from"), values.get("date_to"))


# -- the platform API -------------------------------------------------------------------------
def report_get(*, platform: Platform, report_id: UUID | str) -> Report:
    report = (
        Report.objects.filter(platform=platform, pk=report_id).select_related("review_item", "scan").first()
    )
    if report is None:  # another platform's report is indistinguishable from a missing one
        raise ApplicationError("not_found", "No such report.", status=404)
    return report


def appeal_get(*, platform: Platform, appeal_id: UUID | str) -> ReviewItem:
    appeal = (
        ReviewItem.objects.filter(platform=platform, pk=appeal_id, kind=ReviewItem.Kind.APPEAL)
        .select_related("scan")
        .first()
    )
    if appeal is None:
        raise ApplicationError("not_found", "No such appeal.", status=404)
    return appeal


def scan_feedback_list(*, scan: Scan) -> QuerySet[ScanFeedback]:
    """The platform's feedback on one scan, newest first (the console's scan page)."""
    return ScanFeedback.objects.filter(scan=scan).order_by("-created_at")
