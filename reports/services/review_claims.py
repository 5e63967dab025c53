"""Claiming a review item (one moderator at a time; the others see who has it) and releasing it."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from moderation.core.audit import audit_record
from reports.models import ReviewItem
from reports.services.review_locking import (
    User,
    require_staff,
    review_item_check,
    review_item_lock,
    review_item_save,
    review_item_snapshot,
    user_name,
)


def review_claim(*, item_id: UUID | str, user: User, expected_version: int) -> ReviewItem:
    """Take the item (one moderator at a time; others see who has it). Claiming one's own is a no-op."""
    moderator = require_staff(user)
    with transaction.atomic():
        item = review_item_lock(item_id)
        review_item_check(item, moderator, expected_version)
        if item.assignee_id == moderator.pk:
            return item
        before = review_item_snapshot(item)
        item.assignee, item.claimed_at = moderator, timezone.now()
        review_item_save(item, ["assignee", "claimed_at"])
        audit_record(
            action="review.claim",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=f"{user_name(moderator)} claimed the {item.label}.",
            before=before,
            after=review_item_snapshot(item),
        )
    return item


def review_release(*, item_id: UUID | str, user: User, expected_version: int) -> ReviewItem:
    """Give a claimed item back to the queue (its assignee, or a superuser)."""
    moderator = require_staff(user)
    with transaction.atomic():
        item = review_item_lock(item_id)
        review_item_check(
            item, moderator, expected_version, claim=not getattr(moderator, "is_superuser", False)
        )
        if item.assignee_id is None:
            return item
        before = review_item_snapshot(item)
        item.assignee, item.claimed_at = None, None
        review_item_save(item, ["assignee", "claimed_at"])
        audit_record(
            action="review.release",
            actor=moderator,
            target=item,
            platform=item.platform,
            description=f"{user_name(moderator)} released the {item.label} back to the queue.",
            before=before,
            after=review_item_snapshot(item),
        )
    return item
