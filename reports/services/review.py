"""Moderator actions on review items: claim, assign, release, decide (one or in bulk).

Optimistic locking: every action names the ``version`` the moderator saw. The row is locked
(``SELECT ... FOR UPDATE``) and written with a compare-and-set on the version, so of two
moderators acting on the same item exactly one wins; the other gets a 409 ``review_conflict``
whose message tells what happened (the item's latest audit entry). Only the side effects of
the winner run: bank entries, the webhook to the platform, reporters' track records.

Decisions on a reported post: ``confirmed`` (adds the platform's hashtag, optional takedown
request, the media the moderator ticked into the known-deepfake bank: shared or the platform's
own, see ``_bank``), ``dismissed`` (the ticked media into the platform's allow bank only when
asked; a note is required at or above ``DISMISS_NOTE_MIN_SCORE``), ``escalated``
(stays in the queue, unassigned, status escalated). On an appeal: ``appeal_upheld`` (the tag
is removed and the media allow-listed so that no re-scan tags it again) or ``appeal_denied``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from moderation.errors import ApplicationError
from moderation.models import BankEntry, Scan, ScanMedia
from moderation.services.banks import bank_entry_from_scan_media
from moderation.services.verdicts import hashtags_with_tag, hashtags_without_tag, tag_key
from moderation.webhooks import webhook_event_create
from reports.models import AuditEntry, Report, ReporterStats, ReviewItem
from reports.selectors import review_item_media
from reports.services.audit import audit_record
from reports.services.priority import review_item_rescore, review_scores_refresh

logger = logging.getLogger(__name__)

Decision = ReviewItem.Decision
NOTE_MAX_LENGTH = 5000
REPORT_DECISIONS = (Decision.CONFIRMED, Decision.DISMISSED, Decision.ESCALATED)
APPEAL_DECISIONS = (Decision.APPEAL_UPHELD, Decision.APPEAL_DENIED, Decision.ESCALATED)
_VERBS = {
    Decision.CONFIRMED: "confirmed",
    Decision.DISMISSED: "dismissed",
    Decision.ESCALATED: "escalated",
    Decision.APPEAL_UPHELD: "upheld",
    Decision.APPEAL_DENIED: "denied",
}

User = AbstractBaseUser | AnonymousUser


# -- helpers --------------------------------------------------------------------------------
def require_staff(user: User | None) -> AbstractBaseUser:
    """Moderators are active staff users; anyone else gets 403 ``forbidden``."""
    if (
        user is None
        or not user.is_authenticated
        or not getattr(user, "is_active", False)
        or not getattr(user, "is_staff", False)
    ):
        raise ApplicationError("forbidden", "Only staff moderators can review reports.", status=403)
    assert isinstance(user, AbstractBaseUser)
    return user


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "?"


def _short(text: str, limit: int = 200) -> str:
    """A note as quoted in an audit description (the full note is in the entry's ``after``)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(user: Any) -> str:
    return user.get_username() if user is not None else "nobody"


def review_item_state(item: ReviewItem) -> dict[str, Any]:
    """What a moderator needs to see after losing a race (the 409's ``fields.current``)."""
    return {
        "version": item.version,
        "status": item.status,
        "decision": item.decision or None,
        "assignee": _name(item.assignee) if item.assignee_id else None,
        "decided_by": _name(item.decided_by) if item.decided_by_id else None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }


def _snapshot(item: ReviewItem) -> dict[str, Any]:
    """The item's reviewable state, for audit before/after."""
    return {
        "status": item.status,
        "assignee": _name(item.assignee) if item.assignee_id else None,
        "decision": item.decision or None,
        "note": item.decision_note or None,
        "takedown_requested": item.takedown_requested,
        "allow_listed": item.allow_listed,
        "hashtags": item.hashtags,
        "score": item.score,
        "version": item.version,
    }


def _conflict(item: ReviewItem) -> ApplicationError:
    last = (
        AuditEntry.objects.filter(target_type="review_item", target_id=str(item.pk))
        .order_by("-created_at")
        .first()
    )
    happened = (
        f"{last.description} ({_when(last.created_at)})"
        if last is not None
        else f"it is now at version {item.version}, status {item.status}."
    )
    return ApplicationError(
        "review_conflict",
        f"Someone acted on this item before you: {happened} Reload it to see the current state.",
        status=409,
        fields={"current": review_item_state(item)},
    )


def _lock(item_id: UUID | str) -> ReviewItem:
    try:
        UUID(str(item_id))
    except ValueError:
        raise ApplicationError("not_found", "No such review item.", status=404) from None
    item = (
        ReviewItem.objects.select_for_update(of=("self",))
        .select_related("platform", "assignee", "decided_by", "scan", "appeal_of")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise ApplicationError("not_found", "No such review item.", status=404)
    return item


def _check(item: ReviewItem, user: AbstractBaseUser, expected_version: int, *, claim: bool = True) -> None:
    """Version first (the moderator's view is stale), then resolved, then someone else's claim."""
    if item.version != expected_version or item.status == ReviewItem.Status.RESOLVED:
        raise _conflict(item)
    if claim and item.assignee_id is not None and item.assignee_id != user.pk:
        raise ApplicationError(
            "review_claimed",
            f"{_name(item.assignee)} claimed this item at {_when(item.claimed_at)}; "
            "ask them to release it, or assign it to yourself.",
            status=409,
            fields={"current": review_item_state(item)},
        )


def _save(item: ReviewItem, fields: Sequence[str]) -> None:
    """Compare-and-set on the version (the row lock makes it uncontended on PostgreSQL)."""
    now = timezone.now()
    values = {name: getattr(item, name) for name in fields}
    written = ReviewItem.objects.filter(pk=item.pk, version=item.version).update(
        **values, version=item.version + 1, updated_at=now
    )
    if written != 1:
        item.refresh_from_db()
        raise _conflict(item)
    item.version += 1
    item.updated_at = now


# -- claim, assign, release -------------------------------------------------------------------
def review_claim(*, item_id: UUID | str, user: User, expected_version: int) -> ReviewItem:
    """Take the item (one moderator at a time; others see who has it). Claiming one's own is a no-op."""
    moderator = require_staff(user)
    with transaction.atomic():
        item = _lock(item_id)
        _check(item, moderator, expected_version)
        if item.assignee_id == moderator.pk:
            return item
        before = _snapshot(item)
        item.assignee, item.claimed_at = moderator, timezone.now()
        _save(item, ["assignee", "claimed_at"])
        audit_record(
            action="review.claim",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=f"{_name(moderator)} claimed the {item.label}.",
            before=before,
            after=_snapshot(item),
        )
    return item


def review_assign(
    *, item_id: UUID | str, user: User, assignee: AbstractBaseUser | None, expected_version: int
) -> ReviewItem:
    """Give the item to a moderator (or to nobody), taking it over from whoever had it."""
    moderator = require_staff(user)
    if assignee is not None and not (assignee.is_active and getattr(assignee, "is_staff", False)):
        raise ApplicationError(
            "invalid", "Items can be assigned to staff moderators only.", fields={"assignee": ["Not staff."]}
        )
    with transaction.atomic():
        item = _lock(item_id)
        _check(item, moderator, expected_version, claim=False)
        if item.assignee_id == (assignee.pk if assignee else None):
            return item
        before, previous = _snapshot(item), item.assignee
        item.assignee, item.claimed_at = assignee, timezone.now() if assignee else None
        _save(item, ["assignee", "claimed_at"])
        taken = f" (taking it from {_name(previous)})" if previous is not None else ""
        to = f"to {_name(assignee)}" if assignee is not None else "to nobody"
        audit_record(
            action="review.assign",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=f"{_name(moderator)} assigned the {item.label} {to}{taken}.",
            before=before,
            after=_snapshot(item),
        )
    return item


def review_release(*, item_id: UUID | str, user: User, expected_version: int) -> ReviewItem:
    """Give a claimed item back to the queue (its assignee, or a superuser)."""
    moderator = require_staff(user)
    with transaction.atomic():
        item = _lock(item_id)
        _check(item, moderator, expected_version, claim=not getattr(moderator, "is_superuser", False))
        if item.assignee_id is None:
            return item
        before = _snapshot(item)
        item.assignee, item.claimed_at = None, None
        _save(item, ["assignee", "claimed_at"])
        audit_record(
            action="review.release",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=f"{_name(moderator)} released the {item.label} back to the queue.",
            before=before,
            after=_snapshot(item),
        )
    return item


# -- decide -------------------------------------------------------------------------------------
def _validate_decision(
    item: ReviewItem, decision: str, note: str, *, takedown: bool, allow_bank: bool
) -> None:
    allowed = APPEAL_DECISIONS if item.kind == ReviewItem.Kind.APPEAL else REPORT_DECISIONS
    if decision not in allowed:
        raise ApplicationError(
            "invalid_decision",
            f"A {item.kind} item can be decided as: {', '.join(allowed)}.",
            fields={"decision": [f"One of: {', '.join(allowed)}."]},
        )
    if decision == Decision.ESCALATED and item.status == ReviewItem.Status.ESCALATED:
        raise ApplicationError("invalid_decision", "The item is already escalated.")
    if takedown and decision != Decision.CONFIRMED:
        raise ApplicationError("invalid", "A takedown can only go with a confirmation.")
    if allow_bank and decision != Decision.DISMISSED:
        raise ApplicationError("invalid", "Only a dismissal can add the media to the allow bank.")
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            "invalid", "The note is too long.", fields={"note": [f"At most {NOTE_MAX_LENGTH} characters."]}
        )
    limit = settings.FAKEME_REPORTS["DISMISS_NOTE_MIN_SCORE"]
    if decision == Decision.DISMISSED and not note and item.score >= limit:
        raise ApplicationError(
            "note_required",
            f"Dismissing an item scored {item.score:.0f} (at least {limit:.0f}) needs a note saying why.",
            fields={"note": ["Required for dismissing a high-score item."]},
        )


def _published_hashtags(scan: Scan | None) -> list[str]:
    """What the post shows as far as FakeME knows: a completed scan's output, else its input."""
    if scan is None:
        return []
    return list(scan.hashtags_out if scan.status == Scan.Status.COMPLETED else scan.hashtags_in)


def _bank_rows(item: ReviewItem, bank_media: Collection[str]) -> list[ScanMedia]:
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


def _describe(item: ReviewItem, moderator: AbstractBaseUser, decision: str, extras: list[str]) -> str:
    who = _name(moderator)
    if decision == Decision.CONFIRMED:
        text = f"{who} confirmed the {item.label} as a deepfake"
    elif decision == Decision.DISMISSED:
        text = f"{who} dismissed the {item.label}"
    elif decision == Decision.ESCALATED:
        text = f"{who} escalated the {item.label}"
    elif decision == Decision.APPEAL_UPHELD:
        text = f"{who} upheld the {item.label}"
    else:
        text = f"{who} denied the {item.label}"
    return text + (f" ({'; '.join(extras)})" if extras else "") + "."


def review_decide(
    *,
    item_id: UUID | str,
    user: User,
    decision: str,
    expected_version: int,
    note: str = "",
    takedown: bool = False,
    allow_bank: bool = False,
    bank_media: Collection[str] = (),
    group_id: UUID | None = None,
) -> ReviewItem:
    """Decide an item (see the module docstring).

    ``bank_media``: the SHA-256 of each media of the item that the moderator was shown and chose to
    bank (the item page lists every distinct media with a checkbox); only those go into a bank, and
    only with a decision that banks (confirm, dismiss with ``allow_bank``, uphold an appeal). Nothing
    else is ever banked: a bulk decision, which shows no media, banks none.

    Errors: 403 ``forbidden``, 404 ``not_found``, 409 ``review_conflict`` / ``review_claimed``,
    400 ``invalid_decision`` / ``note_required`` / ``invalid``.
    """
    moderator = require_staff(user)
    decision, note = str(decision), (note or "").strip()
    with transaction.atomic():
        item = _lock(item_id)
        _check(item, moderator, expected_version)
        _validate_decision(item, decision, note, takedown=takedown, allow_bank=allow_bank)
        banks = decision in (Decision.CONFIRMED, Decision.APPEAL_UPHELD) or (
            decision == Decision.DISMISSED and allow_bank
        )
        rows = _bank_rows(item, bank_media) if banks else []
        before = _snapshot(item)
        now = timezone.now()
        item.decision, item.decided_by, item.decided_at, item.decision_note = decision, moderator, now, note
        fields = ["decision", "decided_by", "decided_at", "decision_note", "status"]
        if decision == Decision.ESCALATED:
            # Back to the queue for a senior moderator: unassigned, still undecided.
            item.status, item.assignee, item.claimed_at = ReviewItem.Status.ESCALATED, None, None
            _save(item, [*fields, "assignee", "claimed_at"])
            extras = [f"note: {_short(note)}"] if note else []
        else:
            item.status = ReviewItem.Status.RESOLVED
            if item.assignee_id is None:
                item.assignee, item.claimed_at = moderator, now
            item.takedown_requested = takedown
            published = (
                _appeal_base(item)
                if item.kind == ReviewItem.Kind.APPEAL
                else _published_hashtags(item.scan or _latest_rescan(item))
            )
            item.hashtags = _hashtags_after(item, decision, published)
            item.allow_listed = allow_bank or decision == Decision.APPEAL_UPHELD
            _save(item, [*fields, "assignee", "claimed_at", "takedown_requested", "hashtags", "allow_listed"])
            extras = _effects(item, moderator, decision, published, rows)
            if note:
                extras.append(f"note: {_short(note)}")
        audit_record(
            action="review.decide",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=_describe(item, moderator, decision, extras),
            before=before,
            after=_snapshot(item),
            group_id=group_id,
        )
    logger.info("review item %s %s by %s", item.pk, decision, _name(moderator))
    return item


def _latest_rescan(item: ReviewItem) -> Scan | None:
    report = item.reports.exclude(scan=None).select_related("scan").order_by("-created_at").first()
    return report.scan if report is not None else None


def _appeal_base(item: ReviewItem) -> list[str]:
    """The hashtags the post shows with the appealed tag: the confirmation's, else the tagging scan's."""
    original = item.appeal_of
    if original is not None and original.hashtags is not None:
        return list(original.hashtags)
    return _published_hashtags(item.scan)


def _hashtags_after(item: ReviewItem, decision: str, published: list[str]) -> list[str]:
    tag = item.platform.fake_hashtag
    if decision in (Decision.CONFIRMED, Decision.APPEAL_DENIED):
        return hashtags_with_tag(published, tag)
    if decision == Decision.APPEAL_UPHELD:
        return hashtags_without_tag(published, tag)
    return published  # dismissed: the post stays as it is


def _effects(
    item: ReviewItem,
    moderator: AbstractBaseUser,
    decision: str,
    published: list[str],
    rows: list[ScanMedia],
) -> list[str]:
    """Banks, reporters' records and the webhook of a final decision; returns what to say in the audit."""
    extras: list[str] = []
    reference = f"review item {item.pk}"
    reporters: list[str] = []
    if decision == Decision.CONFIRMED:
        added = _bank(item, BankEntry.Bank.KNOWN_FAKE, rows, moderator, f"Confirmed deepfake ({reference}).")
        extras.append(f"{item.platform.fake_hashtag} added")
        if item.takedown_requested:
            extras.append("takedown requested")
        where = "shared" if item.platform.share_confirmed_fakes else f"{item.platform.name}'s"
        extras.append(f"{len(added)} media into the {where} known-deepfake bank")
        reporters = _outcome_record(item, Report.Outcome.AGREED)
    elif decision == Decision.DISMISSED:
        if item.allow_listed:
            added = _bank(item, BankEntry.Bank.ALLOW, rows, moderator, f"Dismissed report ({reference}).")
            extras.append(f"{len(added)} media into {item.platform.name}'s allow bank")
        reporters = _outcome_record(item, Report.Outcome.REJECTED)
    elif decision == Decision.APPEAL_UPHELD:
        added = _bank(item, BankEntry.Bank.ALLOW, rows, moderator, f"Appeal upheld ({reference}).")
        extras.append(
            f"{item.platform.fake_hashtag} removed; {len(added)} media into {item.platform.name}'s allow bank"
        )
        if item.appeal_of is not None:
            reporters = _outcome_reverse(item.appeal_of)
    else:
        extras.append(f"{item.platform.fake_hashtag} stays")
    if reporters:
        review_scores_refresh(platform_id=item.platform_id, reporter_ids=reporters)
    event = "appeal.resolved" if item.kind == ReviewItem.Kind.APPEAL else "report.resolved"
    webhook_event_create(
        platform=item.platform, event_type=event, data=resolved_event_data(item, before=published)
    )
    return extras


# -- bulk ---------------------------------------------------------------------------------------
@dataclass
class BulkOutcome:
    group_id: UUID
    decided: list[ReviewItem] = field(default_factory=list)
    failed: dict[str, ApplicationError] = field(default_factory=dict)  # item id -> why it was skipped


def review_bulk_decide(
    *,
    item_ids: Iterable[UUID | str],
    user: User,
    decision: str,
    note: str = "",
    expected_versions: Mapping[str, int] | None = None,
    takedown: bool = False,
    allow_bank: bool = False,
) -> BulkOutcome:
    """The same decision on many items, each in its own transaction; one audit group for all.

    ``expected_versions`` (item id -> version the moderator saw) makes every item optimistic-locked
    like a single decision; without it the items' current versions are used. Items that fail
    (conflict, claimed by someone else, note required, ...) are skipped and listed in ``failed``.
    """
    moderator = require_staff(user)
    ids = list(dict.fromkeys(str(i) for i in item_ids))
    limit = settings.FAKEME_REPORTS["BULK_MAX_ITEMS"]
    if not ids or len(ids) > limit:
        raise ApplicationError(
            "invalid", f"Select 1 to {limit} items.", fields={"item_ids": [f"1 to {limit}."]}
        )
    outcome = BulkOutcome(group_id=uuid.uuid4())
    valid = []
    for item_id in ids:
        try:
            valid.append(str(UUID(item_id)))
        except ValueError:
            outcome.failed[item_id] = ApplicationError("not_found", "No such review item.", status=404)
    current = {str(pk): v for pk, v in ReviewItem.objects.filter(pk__in=valid).values_list("pk", "version")}
    for item_id in valid:
        version = (expected_versions or {}).get(item_id, current.get(item_id))
        if version is None:
            outcome.failed[item_id] = ApplicationError("not_found", "No such review item.", status=404)
            continue
        try:
            outcome.decided.append(
                review_decide(
                    item_id=item_id,
                    user=moderator,
                    decision=decision,
                    expected_version=version,
                    note=note,
                    takedown=takedown,
                    allow_bank=allow_bank,
                    group_id=outcome.group_id,
                )
            )
        except ApplicationError as exc:
            if exc.code == "forbidden":
                raise
            outcome.failed[item_id] = exc
    skipped = f", {len(outcome.failed)} skipped" if outcome.failed else ""
    audit_record(
        action="review.bulk_decide",
        actor=moderator,
        target_type="review_item",
        target_label=f"{len(ids)} review items",
        description=(
            f"{_name(moderator)} {_VERBS.get(decision, decision)} {len(outcome.decided)} item(s) "
            f"in one bulk action{skipped}."
        ),
        after={
            "decision": decision,
            "decided": [str(i.pk) for i in outcome.decided],
            "failed": {k: v.code for k, v in outcome.failed.items()},
        },
        group_id=outcome.group_id,
    )
    return outcome


# -- system: a re-scan finished -----------------------------------------------------------------
def review_item_scan_completed(*, scan: Scan) -> None:
    """A report's re-scan completed: it becomes the item's latest scan and its P(fake) the item's."""
    item_ids = list(Report.objects.filter(scan_id=scan.pk).values_list("review_item_id", flat=True))
    if not item_ids:
        return
    items = ReviewItem.objects.filter(pk__in=item_ids).exclude(status=ReviewItem.Status.RESOLVED)
    for item in items.select_related("platform", "scan"):
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
