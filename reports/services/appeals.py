"""Appeals: the poster contests a ``#Deepfake`` tag once; the appeal is a review item of its own.

What can be appealed: a moderator's confirmation of the post (its latest resolved report item
decided ``confirmed``), else a completed scan of the post that added the tag automatically.
Upholding the appeal (``review_decide(decision="appeal_upheld")`` of
``reports.services.review_decisions``) removes the tag through the ``appeal.resolved`` webhook and
puts the media into the allow bank, so re-scans of the same media (resized or re-encoded too: PDQ)
are not tagged again.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from moderation.scans.models import Scan
from reports.decisions import Hashtags, decision_get
from reports.models import STATEMENT_MAX_LENGTH, ReviewItem
from reports.services.priority import score_appeal
from reports.services.reports import latest_completed_scan

logger = logging.getLogger(__name__)


def _appealable(platform: Platform, external_post_id: str) -> tuple[ReviewItem | None, Scan | None]:
    """(the confirmation, the scan) a tag on the post came from; (None, None) when it has no tag from us."""
    confirmed = (
        ReviewItem.objects.filter(
            platform=platform,
            external_post_id=external_post_id,
            kind=ReviewItem.Kind.REPORT,
            status=ReviewItem.Status.RESOLVED,
        )
        .select_related("scan")
        .order_by("-decided_at")
        .first()
    )
    spec = decision_get(confirmed.decision) if confirmed is not None else None
    if confirmed is not None and spec is not None and spec.hashtags is Hashtags.TAGGED:  # it tagged the post
        return confirmed, confirmed.scan or latest_completed_scan(
            platform=platform, external_post_id=external_post_id
        )
    tagged = (
        Scan.objects.filter(
            platform=platform, external_id=external_post_id, status=Scan.Status.COMPLETED, tagged=True
        )
        .order_by("-created_at")
        .first()
    )
    return None, tagged


def appeal_create(
    *, platform: Platform, external_post_id: str, appellant_id: str, statement: str = ""
) -> ReviewItem:
    """Open the post's one appeal. 400 ``invalid``, 409 ``not_appealable`` / ``appeal_exists``,
    403 ``not_the_author`` (the tagged scan names another author)."""
    fields: dict[str, list[str]] = {}
    if not external_post_id.strip():
        fields["external_id"] = ["The post's id is required."]
    if not appellant_id.strip():
        fields["appellant_id"] = ["The appellant's id is required."]
    if len(statement) > STATEMENT_MAX_LENGTH:
        fields["statement"] = [f"At most {STATEMENT_MAX_LENGTH} characters."]
    if fields:
        raise ApplicationError("invalid", "The appeal is invalid; see fields.", fields=fields)

    exists = ApplicationError(
        "appeal_exists", "This post has already been appealed; it can be appealed once.", status=409
    )
    if ReviewItem.objects.filter(
        platform=platform, external_post_id=external_post_id, kind=ReviewItem.Kind.APPEAL
    ).exists():
        raise exists
    original, scan = _appealable(platform, external_post_id)
    if original is None and scan is None:
        raise ApplicationError(
            "not_appealable",
            f"Post {external_post_id} carries no {platform.fake_hashtag} from FakeME to appeal.",
            status=409,
        )
    author = scan.author_id if scan is not None else ""
    if author and author != appellant_id:
        raise ApplicationError("not_the_author", "Only the post's author can appeal its tag.", status=403)

    probability = scan.probability if scan is not None else (original.probability if original else None)
    try:
        with transaction.atomic():
            item = ReviewItem.objects.create(
                platform=platform,
                kind=ReviewItem.Kind.APPEAL,
                external_post_id=external_post_id,
                category=original.category if original is not None else "",
                scan=scan,
                probability=probability,
                score=score_appeal(probability=probability).score,
                appeal_of=original,
                appellant_id=appellant_id,
                appeal_statement=statement,
            )
            source = "a moderator's confirmation" if original is not None else "an automatic scan verdict"
            audit_record(
                action="appeal.create",
                actor_label=f"platform {platform.name}",
                target=item,
                platform=platform,
                description=(
                    f"User {appellant_id} of {platform.name} appealed the {platform.fake_hashtag} tag on "
                    f"post {external_post_id} (from {source})."
                ),
                after={
                    "appeal_of": str(original.pk) if original else None,
                    "scan": str(scan.pk) if scan else None,
                },
            )
    except IntegrityError:  # a concurrent appeal on the same post won
        raise exists from None
    logger.info("appeal %s on %s/%s by %s", item.pk, platform.name, external_post_id, appellant_id)
    return item
