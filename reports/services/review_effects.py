"""What a final decision does beyond the item's row: hashtags, banks, reporters' records, the webhook.

Which of these a decision has is its ``DecisionSpec`` (``reports.decisions``): the platform's tag
added, removed or left alone; the media the moderator ticked into the known-deepfake bank (shared,
or the platform's own: see ``_bank``) or the platform's allow bank; the reports agreed with, rejected
or, for an upheld appeal, reversed; and the ``report.resolved`` / ``appeal.resolved`` webhook.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F

from moderation.core.errors import ApplicationError
from moderation.core.webhooks import webhook_event_create
from moderation.provenance.models import BankEntry
from moderation.scans.known_fakes import bank_entry_from_scan_media
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.verdicts import hashtags_with_tag, hashtags_without_tag, tag_key
from reports.decisions import DecisionSpec, Hashtags, Reporters
from reports.models import Report, ReporterStats, ReviewItem
from reports.selectors import review_item_latest_rescan, review_item_media
from reports.services.priority import review_scores_refresh


# -- hashtags ---------------------------------------------------------------------------------
def _published_hashtags(scan: Scan | None) -> list[str]:
    """What the post shows as far as FakeME knows: a completed scan's output, else its input."""
    if scan is None:
        return []
    return list(scan.hashtags_out if scan.status == Scan.Status.COMPLETED else scan.hashtags_in)


def published_hashtags(item: ReviewItem) -> list[str]:
    """The hashtags the post shows before the decision. An appeal: the ones with the appealed tag
    (the confirmation's, else the tagging scan's); a report: its latest scan's, else its re-scan's."""
    if item.kind == ReviewItem.Kind.APPEAL:
        original = item.appeal_of
        if original is not None and original.hashtags is not None:
            return list(original.hashtags)
        return _published_hashtags(item.scan)
    return _published_hashtags(item.scan or review_item_latest_rescan(item=item))


def hashtags_after(item: ReviewItem, spec: DecisionSpec, published: list[str]) -> list[str]:
    tag = item.platform.fake_hashtag
    if spec.hashtags is Hashtags.TAGGED:
        return hashtags_with_tag(published, tag)
    if spec.hashtags is Hashtags.UNTAGGED:
        return hashtags_without_tag(published, tag)
    return published


# -- banks --------------------------------------------------------------------------------------
def bank_rows(item: ReviewItem, bank_media: Collection[str]) -> list[ScanMedia]:
    """The item's media the moderator chose to bank (SHA-256s of media the item page showed).

    Only media of this item can be banked: anything else is refused (400) before anything is written,
    so a decision never banks media nobody was shown.
    """
    if not bank_media:
        return []
    shown = {m.media.sha256: m.media for m in review_item_media(item=item)}
    unknown = sorted(set(bank_media) - set(shown))
    if unknown:
        raise ApplicationError(
            "invalid",
            "Only media of this item can be banked; reload the page to see its media.",
            fields={"bank_media": [f"Not a media of this item: {sha[:12]}…" for sha in unknown]},
        )
    return [shown[sha] for sha in dict.fromkeys(bank_media)]


def _bank(
    item: ReviewItem, bank: str, rows: list[ScanMedia], user: AbstractBaseUser, note: str
) -> list[BankEntry]:
    """Entries for the chosen media, skipping media the bank already holds for the same owner.

    Known deepfakes go into the shared bank when the item's platform shares its confirmations
    (``Platform.share_confirmed_fakes``), else into the platform's own; allow entries always into
    the platform's own (a clearing on one platform must not un-flag a deepfake on another).
    """
    shared = bank == BankEntry.Bank.KNOWN_FAKE and item.platform.share_confirmed_fakes
    owner = None if shared else item.platform
    added = []
    for row in rows:
        result = bank_entry_from_scan_media(
            bank=bank, scan_media=row, platform=owner, created_by=user, note=note
        )
        if result.created:
            added.append(result.entry)
    return added


def _bank_words(item: ReviewItem, bank: str, added: int) -> str:
    if bank == BankEntry.Bank.KNOWN_FAKE:
        where = "shared" if item.platform.share_confirmed_fakes else f"{item.platform.name}'s"
        return f"{added} media into the {where} known-deepfake bank"
    return f"{added} media into {item.platform.name}'s allow bank"


# -- reporters ----------------------------------------------------------------------------------
def _outcome_record(item: ReviewItem, outcome: str) -> list[str]:
    """Mark the item's pending reports agreed or rejected and count them on their reporters."""
    pending = list(item.reports.filter(outcome=Report.Outcome.PENDING).values_list("pk", "reporter_id"))
    Report.objects.filter(pk__in=[pk for pk, _ in pending]).update(outcome=outcome)
    column = "agreed" if outcome == Report.Outcome.AGREED else "rejected"
    counts: dict[str, int] = {}
    for _, reporter in pending:
        counts[reporter] = counts.get(reporter, 0) + 1
    for reporter, n in counts.items():
        stats, _ = ReporterStats.objects.get_or_create(platform_id=item.platform_id, reporter_id=reporter)
        ReporterStats.objects.filter(pk=stats.pk).update(**{column: F(column) + n})
    return list(counts)


def _outcome_reverse(original: ReviewItem) -> list[str]:
    """An upheld appeal: the reports that led to the confirmation were wrong after all."""
    agreed = list(original.reports.filter(outcome=Report.Outcome.AGREED).values_list("pk", "reporter_id"))
    Report.objects.filter(pk__in=[pk for pk, _ in agreed]).update(outcome=Report.Outcome.REJECTED)
    counts: dict[str, int] = {}
    for _, reporter in agreed:
        counts[reporter] = counts.get(reporter, 0) + 1
    for reporter, n in counts.items():
        ReporterStats.objects.filter(platform_id=original.platform_id, reporter_id=reporter).update(
            agreed=F("agreed") - n, rejected=F("rejected") + n
        )
    return list(counts)


def _reporters(item: ReviewItem, spec: DecisionSpec) -> list[str]:
    if spec.reporters is Reporters.AGREED:
        return _outcome_record(item, Report.Outcome.AGREED)
    if spec.reporters is Reporters.REJECTED:
        return _outcome_record(item, Report.Outcome.REJECTED)
    if spec.reporters is Reporters.REVERSED and item.appeal_of is not None:
        return _outcome_reverse(item.appeal_of)
    return []


# -- the webhook --------------------------------------------------------------------------------
def resolved_event_data(item: ReviewItem, *, before: list[str]) -> dict[str, Any]:
    """The ``report.resolved`` / ``appeal.resolved`` webhook's ``data``: what the platform must do."""
    after = item.hashtags or []
    keys_before, keys_after = {tag_key(h) for h in before}, {tag_key(h) for h in after}
    return {
        "id": str(item.pk),
        "kind": item.kind,
        "external_id": item.external_post_id,
        "decision": item.decision,
        "category": item.category or None,
        "hashtags": after,
        "add_hashtags": [h for h in after if tag_key(h) not in keys_before],
        "remove_hashtags": [h for h in before if tag_key(h) not in keys_after],
        "takedown": item.takedown_requested,
        "reports": [str(pk) for pk in item.reports.values_list("pk", flat=True)],
        "appeal_of": str(item.appeal_of_id) if item.appeal_of_id else None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }


# -- all of them --------------------------------------------------------------------------------
def review_decision_effects(
    item: ReviewItem,
    spec: DecisionSpec,
    *,
    moderator: AbstractBaseUser,
    published: list[str],
    rows: list[ScanMedia] | None,
) -> list[str]:
    """Banks, reporters' records and the webhook of a final decision (the item already saved with its
    hashtags and takedown); returns what the audit entry says about them.

    ``rows``: the media to bank (``bank_rows``), or None when the decision banks nothing.
    """
    tag = item.platform.fake_hashtag
    extras = [spec.hashtag_words.format(hashtag=tag)] if spec.hashtag_words else []
    if item.takedown_requested:
        extras.append("takedown requested")
    if rows is not None:
        note = spec.bank_note.format(reference=f"review item {item.pk}")
        added = _bank(item, spec.bank, rows, moderator, note)
        extras.append(_bank_words(item, spec.bank, len(added)))
    reporters = _reporters(item, spec)
    if reporters:
        review_scores_refresh(platform_id=item.platform_id, reporter_ids=reporters)
    event = spec.event(item.kind)
    if event is not None:
        webhook_event_create(
            platform=item.platform, event_type=event, data=resolved_event_data(item, before=published)
        )
    return extras
