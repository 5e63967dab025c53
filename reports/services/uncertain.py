"""Uncertain scans go to people: a scan whose verdict is ``uncertain`` opens a review item itself.

The classifier scored the post between the review and the tag threshold, so it is not tagged;
unless the platform turned ``review_uncertain`` off, the post waits in the review queue (category
``model_uncertain``) before anyone reports it. A post that already has an active report item
keeps that one: its re-scan updates it (``review_item_scan_completed``).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from moderation.core.audit import audit_record
from moderation.scans.models import Scan, Verdict
from reports.models import Category, ReviewItem
from reports.services.priority import score_report

logger = logging.getLogger(__name__)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def review_item_open_for_uncertain(*, scan: Scan) -> ReviewItem | None:
    """The review item an uncertain scan opened, or None when none was due (verdict, setting, an
    item already active for the post, no post id to refer a decision to, or this scan's already)."""
    platform = scan.platform
    if scan.verdict != Verdict.UNCERTAIN or not platform.review_uncertain or not scan.external_id:
        return None
    if ReviewItem.objects.filter(scan=scan).exists():
        return None  # this scan already opened (or updated) an item: saved again, not re-decided
    active = ReviewItem.objects.filter(
        platform=platform, kind=ReviewItem.Kind.REPORT, external_post_id=scan.external_id
    ).exclude(status=ReviewItem.Status.RESOLVED)
    if active.exists():
        return None
    try:
        with transaction.atomic():
            item = ReviewItem(
                platform=platform,
                kind=ReviewItem.Kind.REPORT,
                external_post_id=scan.external_id,
                category=Category.MODEL_UNCERTAIN,
                scan=scan,
                probability=scan.probability,
            )
            item.score = score_report(probability=scan.probability, category=item.category, trusts=[]).score
            item.save()
    except IntegrityError:  # a first report on the same post made its item at the same moment
        return None
    audit_record(
        action="review.auto_open",
        actor_label="FakeME scan",
        target=item,
        platform=platform,
        description=(
            f"Scan {scan.pk} of post {scan.external_id} ({platform.name}) was uncertain "
            f"(P(fake) {_num(scan.probability)}, review from {_num(scan.review_threshold)}, tag from "
            f"{_num(scan.threshold)}): not tagged, sent to review."
        ),
        after={"scan": str(scan.pk), "probability": scan.probability, "score": item.score},
    )
    logger.info("scan %s uncertain: review item %s opened", scan.pk, item.pk)
    return item
