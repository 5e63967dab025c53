"""Feedback on verdicts, from platforms (the API) and from moderators' decisions, as one stream.

A platform says a scan's verdict was a false positive, a false negative or correct; a moderator's
decision says the same implicitly (a dismissed report on a post the model called fake is a false
positive). The dashboard counts false alarms from both; ``export_training_faces`` turns both into
labelled face crops for ``finetune_detector``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from moderation.scans.models import Scan, Verdict
from moderation.scans.selectors import scan_get
from reports.decisions import decision_get
from reports.models import COMMENT_MAX_LENGTH, ReviewItem, ScanFeedback

logger = logging.getLogger(__name__)


def feedback_create(*, platform: Platform, scan_id: UUID | str, kind: str, note: str = "") -> ScanFeedback:
    """Record the platform's feedback on one of its completed scans (audited)."""
    if kind not in ScanFeedback.Kind.values:
        raise ApplicationError(
            "invalid",
            "The feedback is invalid; see fields.",
            fields={"kind": [f"One of: {', '.join(ScanFeedback.Kind.values)}."]},
        )
    if len(note) > COMMENT_MAX_LENGTH:
        raise ApplicationError(
            "invalid",
            "The feedback is invalid; see fields.",
            fields={"note": [f"At most {COMMENT_MAX_LENGTH} characters."]},
        )
    scan = scan_get(platform=platform, scan_id=scan_id)  # another platform's scan: 404
    if scan.status != Scan.Status.COMPLETED:
        raise ApplicationError(
            "scan_not_completed", "Feedback is on a verdict: this scan has none yet.", status=409
        )
    feedback = ScanFeedback.objects.create(
        platform=platform,
        scan=scan,
        kind=kind,
        note=note,
        verdict=scan.verdict,
        model_version=scan.model_version,
    )
    audit_record(
        action="scan.feedback",
        actor_label=f"platform {platform.name}",
        target=scan,
        platform=platform,
        description=(
            f"{platform.name} called the {scan.verdict} verdict on post {scan.external_id or '(no id)'} "
            f"{ScanFeedback.Kind(kind).label.lower()} (model {scan.model_version or '-'})."
        ),
        after={"feedback": str(feedback.pk), "kind": kind, "note": note},
    )
    logger.info("feedback %s on scan %s by %s", kind, scan.pk, platform.name)
    return feedback


@dataclass(frozen=True)
class FeedbackEvent:
    """One labelled verdict: ``kind`` as in ScanFeedback.Kind, from the platform or a moderator."""

    scan_id: UUID
    kind: str
    source: str  # "platform" | "moderator"
    model_version: str
    at: datetime


def _decision_kind(decision: str, verdict: str) -> str | None:
    """What a moderator's decision says of the verdict (``DecisionSpec.says_fake``): escalations decide
    nothing, and appeals are about a decision, not the model."""
    spec = decision_get(decision)
    if spec is None or spec.says_fake is None:
        return None
    called_fake = verdict == Verdict.FAKE
    if called_fake == spec.says_fake:
        return ScanFeedback.Kind.CORRECT
    return ScanFeedback.Kind.FALSE_POSITIVE if called_fake else ScanFeedback.Kind.FALSE_NEGATIVE


def feedback_events(
    *, since: datetime | None = None, platform: Platform | None = None
) -> list[FeedbackEvent]:
    """Every labelled verdict: platforms' feedback and moderators' report decisions, oldest first."""
    given = ScanFeedback.objects.all()
    decided = ReviewItem.objects.filter(
        kind=ReviewItem.Kind.REPORT, status=ReviewItem.Status.RESOLVED, scan__isnull=False
    ).select_related("scan")
    if since is not None:
        given, decided = given.filter(created_at__gte=since), decided.filter(decided_at__gte=since)
    if platform is not None:
        given, decided = given.filter(platform=platform), decided.filter(platform=platform)
    events = [
        FeedbackEvent(f.scan_id, f.kind, "platform", f.model_version, f.created_at)
        for f in given.only("scan_id", "kind", "model_version", "created_at")
    ]
    for item in decided:
        kind = _decision_kind(item.decision, item.scan.verdict)
        if kind is not None and item.decided_at is not None:
            events.append(
                FeedbackEvent(item.scan_id, kind, "moderator", item.scan.model_version, item.decided_at)
            )
    return sorted(events, key=lambda e: e.at)
