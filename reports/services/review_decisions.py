"""Deciding review items, one at a time or in bulk.

Which decisions an item can take and what each does is its ``DecisionSpec`` in ``reports.decisions``:
the item kinds it decides, whether it resolves the item or sends it back to the queue escalated, the
takedown and allow-bank options, the note rule (``DISMISS_NOTE_MIN_SCORE``), and its effects.

Every decision is optimistic-locked (``reports.services.review_locking``): only the winner's side
effects run (``reports.services.review_effects``: banks, the webhook, reporters' track records).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from reports.decisions import DecisionSpec, decision_get, decisions_for
from reports.models import ReviewItem
from reports.selectors import review_item_versions
from reports.services.review_effects import (
    bank_rows,
    hashtags_after,
    published_hashtags,
    review_decision_effects,
)
from reports.services.review_locking import (
    User,
    audit_quote,
    require_staff,
    review_item_check,
    review_item_lock,
    review_item_save,
    review_item_snapshot,
    user_name,
)

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 5000


def _validate(
    item: ReviewItem, decision: str, note: str, *, takedown: bool, allow_bank: bool
) -> DecisionSpec:
    """The decision's spec, when it may decide this item as asked."""
    spec = decision_get(decision)
    if spec is None or item.kind not in spec.kinds:
        allowed = [s.value for s in decisions_for(item.kind)]
        raise ApplicationError(
            "invalid_decision",
            f"A {item.kind} item can be decided as: {', '.join(allowed)}.",
            fields={"decision": [f"One of: {', '.join(allowed)}."]},
        )
    if not spec.resolves and item.status == ReviewItem.Status.ESCALATED:
        raise ApplicationError("invalid_decision", "The item is already escalated.")
    if takedown and not spec.takedown:
        raise ApplicationError("invalid", "A takedown can only go with a confirmation.")
    if allow_bank and not spec.bank_optional:
        raise ApplicationError("invalid", "Only a dismissal can add the media to the allow bank.")
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            "invalid", "The note is too long.", fields={"note": [f"At most {NOTE_MAX_LENGTH} characters."]}
        )
    limit = settings.FAKEME_REPORTS["DISMISS_NOTE_MIN_SCORE"]
    if spec.note_from_high_score and not note and item.score >= limit:
        raise ApplicationError(
            "note_required",
            f"{spec.doing.capitalize()} an item scored {item.score:.0f} (at least {limit:.0f}) "
            "needs a note saying why.",
            fields={"note": [f"Required for {spec.doing} a high-score item."]},
        )
    return spec


def _describe(item: ReviewItem, moderator: AbstractBaseUser, spec: DecisionSpec, extras: list[str]) -> str:
    text = f"{user_name(moderator)} {spec.verb} the {item.label}{spec.verb_tail}"
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
        item = review_item_lock(item_id)
        review_item_check(item, moderator, expected_version)
        spec = _validate(item, decision, note, takedown=takedown, allow_bank=allow_bank)
        rows = bank_rows(item, bank_media) if spec.banks(allow_bank=allow_bank) else None
        before = review_item_snapshot(item)
        now = timezone.now()
        item.decision, item.decided_by, item.decided_at, item.decision_note = decision, moderator, now, note
        fields = ["decision", "decided_by", "decided_at", "decision_note", "status"]
        if not spec.resolves:
            # Back to the queue for a senior moderator: unassigned, still undecided.
            item.status, item.assignee, item.claimed_at = ReviewItem.Status.ESCALATED, None, None
            review_item_save(item, [*fields, "assignee", "claimed_at"])
            extras = [f"note: {audit_quote(note)}"] if note else []
        else:
            item.status = ReviewItem.Status.RESOLVED
            if item.assignee_id is None:
                item.assignee, item.claimed_at = moderator, now
            item.takedown_requested = takedown
            published = published_hashtags(item)
            item.hashtags = hashtags_after(item, spec, published)
            item.allow_listed = spec.allow_lists(allow_bank=allow_bank)
            review_item_save(
                item, [*fields, "assignee", "claimed_at", "takedown_requested", "hashtags", "allow_listed"]
            )
            extras = review_decision_effects(item, spec, moderator=moderator, published=published, rows=rows)
            if note:
                extras.append(f"note: {audit_quote(note)}")
        audit_record(
            action="review.decide",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=_describe(item, moderator, spec, extras),
            before=before,
            after=review_item_snapshot(item),
            group_id=group_id,
        )
    logger.info("review item %s %s by %s", item.pk, decision, user_name(moderator))
    return item


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
    current = review_item_versions(item_ids=valid)
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
    spec = decision_get(decision)
    audit_record(
        action="review.bulk_decide",
        actor=moderator,
        target_type="review_item",
        target_label=f"{len(ids)} review items",
        description=(
            f"{user_name(moderator)} {spec.verb if spec else decision} {len(outcome.decided)} item(s) "
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
