"""Media blurred until a moderator reveals them; every reveal is in the audit log.

A moderator on a long shift should not have to look at every face in full: the console blurs
media by default (a per-moderator setting) and always for posts reported as non-consensual. One
click reveals one media item for the rest of the sign-in session, and says so in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from moderation.core.audit import audit_record
from moderation.scans.models import Scan, ScanMedia
from reports.models import Category, ModeratorSettings, ReviewItem

SESSION_KEY = "fakeme.revealed_media"


def moderator_blurs(user: AbstractBaseUser) -> bool:
    """The moderator's setting (blurred until changed)."""
    row = ModeratorSettings.objects.filter(user=user).first()
    return True if row is None else row.blur_media


def moderator_blur_set(*, user: AbstractBaseUser, blur: bool) -> None:
    ModeratorSettings.objects.update_or_create(user=user, defaults={"blur_media": blur})
    audit_record(
        action="moderator.settings",
        actor=user,
        target=user,
        target_type="user",
        description=f"{user.get_username()} turned media blurring {'on' if blur else 'off'}.",
        after={"blur_media": blur},
    )


def media_key(media: ScanMedia) -> str:
    return f"{media.scan_id}-{media.index}"


def veiled_keys(
    *, user: AbstractBaseUser, session: Any, keys: list[str], item: ReviewItem | None = None
) -> set[str]:
    """Which of ``keys`` (``media_key``) to show blurred on this page for this moderator."""
    always = item is not None and item.category == Category.NON_CONSENSUAL
    if not always and not moderator_blurs(user):
        return set()
    revealed = set(session.get(SESSION_KEY, []))
    return {k for k in keys if k not in revealed}


def media_reveal(*, user: AbstractBaseUser, session: Any, scan: Scan, index: int) -> None:
    """Reveal one media item for the rest of the session (audited, every time)."""
    media = scan.media.get(index=index)
    key = media_key(media)
    revealed = list(dict.fromkeys([*session.get(SESSION_KEY, []), key]))
    session[SESSION_KEY] = revealed[-500:]  # bounded: a long shift does not grow the session forever
    audit_record(
        action="media.reveal",
        actor=user,
        target=scan,
        platform=scan.platform,
        description=(
            f"{user.get_username()} revealed media {index} of the scan of post "
            f"{scan.external_id or '(no post id)'} ({scan.platform.name})."
        ),
        after={"media_index": index, "sha256": media.sha256},
    )
