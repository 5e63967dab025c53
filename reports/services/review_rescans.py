"""A report's re-scan finished: its P(fake) and score become its review item's (``reports.signals``)."""

from __future__ import annotations

from django.utils import timezone

from moderation.core.audit import audit_record
from moderation.scans.models import Scan
from reports.models import ReviewItem
from reports.selectors import review_items_rescanned_by
from reports.services.priority import review_item_rescore


def review_item_scan_completed(*, scan: Scan) -> None:
    """A report's re-scan completed: it becomes the item's latest scan and its P(fake) the item's."""
    for item in review_items_rescanned_by(scan=scan):
        if item.scan is not None and item.scan.created_at > scan.created_at:
            continue  # a newer scan already counts
        before = {"probability": item.probability, "score": item.score, "scan": str(item.scan_id or "")}
        item.scan, item.probability = scan, scan.probability
        review_item_rescore(item, save=False)
        ReviewItem.objects.filter(pk=item.pk).update(
            scan=scan, probability=scan.probability, score=item.score, updated_at=timezone.now()
        )
        probability = "no face" if scan.probability is None else f"P(fake) {scan.probability:.2f}"
        audit_record(
            action="review.rescan",
            target=item,
            platform=item.platform,
            description=(
                f"The re-scan of post {item.external_post_id} ({item.platform.name}) finished: "
                f"{probability}, verdict {scan.verdict or '-'}; score now {item.score:.1f}."
            ),
            before=before,
            after={"probability": item.probability, "score": item.score, "scan": str(scan.pk)},
        )
