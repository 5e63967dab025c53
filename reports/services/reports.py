"""Report intake: the platform's report button, deduplicated per post, rate-limited per reporter.

Every report triggers an asynchronous re-scan of the post's media (a new ``Scan`` in async mode:
the platform also receives its ``scan.completed`` webhook) and lands on the post's one active
review item, whose score rises with every distinct reporter. When the re-scan completes its
probability becomes the item's (``reports.signals``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from moderation.core.media import media_delete, media_read
from moderation.core.models import Platform
from moderation.scans.models import Scan
from moderation.scans.submission import scan_submit
from reports.models import (
    CATEGORY_SEVERITY,
    COMMENT_MAX_LENGTH,
    REPORTABLE_CATEGORIES,
    Category,
    Report,
    ReporterStats,
    ReviewItem,
)
from reports.services.priority import review_item_rescore

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}


@dataclass
class ReportSubmission:
    report: Report
    item: ReviewItem
    duplicate: bool = False  # this reporter had already reported the post: nothing new was made


def reporter_rate(rate: str | None = None) -> tuple[int, int]:
    """``"10/hour"`` -> (10, 3600): reports allowed per window of seconds."""
    rate = rate or settings.FAKEME_REPORTS["REPORTER_RATE_LIMIT"]
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()]


def most_severe(*categories: str) -> str:
    present = [c for c in CATEGORY_SEVERITY if c in categories]
    return present[0] if present else Category.OTHER


def _validate(*, external_post_id: str, reporter_id: str, category: str, comment: str, sources: int) -> None:
    fields: dict[str, list[str]] = {}
    if not external_post_id.strip():
        fields["external_id"] = ["The post's id is required."]
    if not reporter_id.strip():
        fields["reporter_id"] = ["The reporter's id is required."]
    if category not in REPORTABLE_CATEGORIES:
        fields["category"] = [f"One of: {', '.join(REPORTABLE_CATEGORIES)}."]
    if len(comment) > COMMENT_MAX_LENGTH:
        fields["comment"] = [f"At most {COMMENT_MAX_LENGTH} characters."]
    if fields:
        raise ApplicationError("invalid", "The report is invalid; see fields.", fields=fields)
    if sources != 1:
        raise ApplicationError("invalid", "Send exactly one of media, media_url or scan_id.")


def _reporter_lock(*, platform: Platform, reporter_id: str) -> None:
    """Lock the reporter's counter row (``ReporterStats``) until the transaction ends.

    Every report by one reporter on one platform takes this lock first, so the duplicate check,
    the rate-limit count and the new row are one step: parallel reports by the same reporter queue
    here instead of all passing the checks at once. (On SQLite writes are serialised anyway.)
    """
    ReporterStats.objects.get_or_create(platform=platform, reporter_id=reporter_id)
    ReporterStats.objects.select_for_update().filter(platform=platform, reporter_id=reporter_id).get()


def _rate_limit_check(*, platform: Platform, reporter_id: str) -> None:
    """Refuse the report (429) when the reporter has sent the limit within the window; call it
    holding ``_reporter_lock`` so that the count includes every concurrent report."""
    limit, window_s = reporter_rate()
    since = timezone.now() - timedelta(seconds=window_s)
    recent = list(
        Report.objects.filter(platform=platform, reporter_id=reporter_id, created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        retry_after = max(
            1, int((recent[-1] + timedelta(seconds=window_s) - timezone.now()).total_seconds()) + 1
        )
        raise ApplicationError(
            "report_rate_limited",
            f"This reporter has sent {limit} reports in the last {window_s // 60 or 1} minute(s); "
            f"try again in {retry_after} s.",
            status=429,
            headers={"Retry-After": str(retry_after)},
        )


def _earlier_report(
    platform: Platform, external_post_id: str, reporter_id: str
) -> tuple[Report, ReviewItem] | None:
    """This reporter's report on the post's active item, if there is one (a repeat changes nothing)."""
    existing = _active_item(platform, external_post_id, lock=False)
    if existing is None:
        return None
    earlier = existing.reports.filter(reporter_id=reporter_id).first()
    return (earlier, existing) if earlier is not None else None


def _active_item(platform: Platform, external_post_id: str, *, lock: bool) -> ReviewItem | None:
    items = ReviewItem.objects.filter(
        platform=platform, external_post_id=external_post_id, kind=ReviewItem.Kind.REPORT
    ).exclude(status=ReviewItem.Status.RESOLVED)
    if lock:
        items = items.select_for_update()
    return items.first()


def latest_completed_scan(*, platform: Platform, external_post_id: str) -> Scan | None:
    return (
        Scan.objects.filter(platform=platform, external_id=external_post_id, status=Scan.Status.COMPLETED)
        .order_by("-created_at")
        .first()
    )


def _uploads_from_scan(source: Scan) -> list[UploadedFile]:
    """The source scan's stored files as uploads for the re-scan (copied: retention deletes per scan)."""
    rows = list(source.media.order_by("index"))
    if not rows or any(not row.storage_key for row in rows):
        raise ApplicationError(
            "media_expired",
            "The scan's media were deleted after the retention period; send the media as a file or URL.",
            status=410,
        )
    return [
        SimpleUploadedFile(
            row.original_name or f"media-{row.index}.{row.format}", media_read(row.storage_key)
        )
        for row in rows
    ]


def report_create(
    *,
    platform: Platform,
    external_post_id: str,
    reporter_id: str,
    category: str,
    comment: str = "",
    upload: UploadedFile | None = None,
    media_url: str = "",
    scan_id: UUID | str | None = None,
) -> ReportSubmission:
    """Record a report and queue the re-scan. All-or-nothing: on error no row and no stored file is left."""
    _validate(
        external_post_id=external_post_id,
        reporter_id=reporter_id,
        category=category,
        comment=comment,
        sources=sum([upload is not None, bool(media_url), scan_id is not None]),
    )
    source: Scan | None = None
    if scan_id is not None:
        source = Scan.objects.filter(platform=platform, pk=scan_id).first()
        if source is None:  # another platform's scan looks exactly like a missing one
            raise ApplicationError("not_found", "No such scan.", status=404)

    stored: list[str] = []
    try:
        with transaction.atomic():
            # One reporter's reports go one at a time from here: duplicate check, limit, new row.
            _reporter_lock(platform=platform, reporter_id=reporter_id)
            earlier = _earlier_report(platform, external_post_id, reporter_id)
            if earlier is not None:
                return ReportSubmission(*earlier, duplicate=True)
            _rate_limit_check(platform=platform, reporter_id=reporter_id)

            latest = latest_completed_scan(platform=platform, external_post_id=external_post_id)
            context = source or latest
            uploads = (
                _uploads_from_scan(source) if source is not None else ([upload] if upload is not None else [])
            )
            rescan = scan_submit(
                platform=platform,
                uploads=uploads,
                media_urls=[media_url] if media_url else [],
                external_id=external_post_id,
                author_id=context.author_id if context else "",
                hashtags=context.hashtags_in if context else [],
                force_async=True,
            ).scan
            stored = list(rescan.media.values_list("storage_key", flat=True))
            report, item = _attach(
                platform=platform,
                external_post_id=external_post_id,
                reporter_id=reporter_id,
                category=category,
                comment=comment,
                rescan=rescan,
                latest=latest,
            )
    except BaseException as exc:
        # scan_submit cleans up after its own errors; after ours, its rows roll back and its files go.
        media_delete(stored)
        if isinstance(exc, IntegrityError):
            # The one-report-per-reporter-per-item constraint: a report that did not take the lock
            # (another code path) got there first. The same answer as any repeat.
            earlier = _earlier_report(platform, external_post_id, reporter_id)
            if earlier is not None:
                return ReportSubmission(*earlier, duplicate=True)
        raise
    logger.info("report %s on %s/%s by %s", report.pk, platform.name, external_post_id, reporter_id)
    return ReportSubmission(report, item)


def _attach(
    *,
    platform: Platform,
    external_post_id: str,
    reporter_id: str,
    category: str,
    comment: str,
    rescan: Scan,
    latest: Scan | None,
) -> tuple[Report, ReviewItem]:
    item = _active_item(platform, external_post_id, lock=True)
    if item is None:
        try:
            with transaction.atomic():
                item = ReviewItem.objects.create(
                    platform=platform,
                    kind=ReviewItem.Kind.REPORT,
                    external_post_id=external_post_id,
                    category=category,
                    scan=latest,
                    probability=latest.probability if latest else None,
                )
        except IntegrityError:  # a concurrent first report on the same post made it
            item = _active_item(platform, external_post_id, lock=True)
            if item is None:
                raise
    report = Report.objects.create(
        platform=platform,
        review_item=item,
        external_post_id=external_post_id,
        reporter_id=reporter_id,
        category=category,
        comment=comment,
        scan=rescan,
    )
    item.report_count = item.reports.count()
    item.distinct_reporters = item.reports.values("reporter_id").distinct().count()
    item.category = most_severe(item.category, category)
    item.platform = platform
    review_item_rescore(item, save=False)
    item.save(update_fields=["report_count", "distinct_reporters", "category", "score", "updated_at"])
    audit_record(
        action="report.create",
        actor_label=f"platform {platform.name}",
        target=item,
        platform=platform,
        description=(
            f"User {reporter_id} of {platform.name} reported post {external_post_id} as "
            f"{Category(category).label.lower()} ({item.distinct_reporters} reporter(s) now)."
        ),
        after={"report": str(report.pk), "category": category, "score": item.score},
    )
    return report, item
