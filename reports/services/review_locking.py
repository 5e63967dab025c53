"""Optimistic locking of review items, shared by every moderator action (claim, release, decide).

Every action names the ``version`` the moderator saw. The row is locked (``SELECT ... FOR UPDATE``)
and written with a compare-and-set on the version, so of two moderators acting on the same item
exactly one wins; the other gets a 409 ``review_conflict`` whose message tells what happened (the
item's latest audit entry), or ``review_claimed`` when someone else holds the item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from moderation.core.errors import ApplicationError
from reports.models import ReviewItem
from reports.selectors import review_item_last_audit

User = AbstractBaseUser | AnonymousUser


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


def when_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "?"


def audit_quote(text: str, limit: int = 200) -> str:
    """A note as quoted in an audit description (the full note is in the entry's ``after``)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_name(user: Any) -> str:
    return user.get_username() if user is not None else "nobody"


def review_item_state(item: ReviewItem) -> dict[str, Any]:
    """What a moderator needs to see after losing a race (the 409's ``fields.current``)."""
    return {
        "version": item.version,
        "status": item.status,
        "decision": item.decision or None,
        "assignee": user_name(item.assignee) if item.assignee_id else None,
        "decided_by": user_name(item.decided_by) if item.decided_by_id else None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }


def review_item_snapshot(item: ReviewItem) -> dict[str, Any]:
    """The item's reviewable state, for audit before/after."""
    return {
        "status": item.status,
        "assignee": user_name(item.assignee) if item.assignee_id else None,
        "decision": item.decision or None,
        "note": item.decision_note or None,
        "takedown_requested": item.takedown_requested,
        "allow_listed": item.allow_listed,
        "hashtags": item.hashtags,
        "score": item.score,
        "version": item.version,
    }


def _conflict(item: ReviewItem) -> ApplicationError:
    last = review_item_last_audit(item=item)
    happened = (
        f"{last.description} ({when_text(last.created_at)})"
        if last is not None
        else f"it is now at version {item.version}, status {item.status}."
    )
    return ApplicationError(
        "review_conflict",
        f"Someone acted on this item before you: {happened} Reload it to see the current state.",
        status=409,
        fields={"current": review_item_state(item)},
    )


def review_item_lock(item_id: UUID | str) -> ReviewItem:
    """The item, its row locked until the transaction ends; 404 ``not_found``."""
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


def review_item_check(
    item: ReviewItem, user: AbstractBaseUser, expected_version: int, *, claim: bool = True
) -> None:
    """Version first (the moderator's view is stale), then resolved, then someone else's claim."""
    if item.version != expected_version or item.status == ReviewItem.Status.RESOLVED:
        raise _conflict(item)
    if claim and item.assignee_id is not None and item.assignee_id != user.pk:
        raise ApplicationError(
            "review_claimed",
            f"{user_name(item.assignee)} claimed this item at {when_text(item.claimed_at)}; "
            "ask them to release it, or assign it to yourself.",
            status=409,
            fields={"current": review_item_state(item)},
        )


def review_item_save(item: ReviewItem, fields: Sequence[str]) -> None:
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
