"""Bank entries: known fakes submitted by platforms or confirmed by moderators, and allowed media."""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile

from moderation.banks import pdq_of_image
from moderation.errors import ApplicationError
from moderation.models import BankEntry, Platform, ScanMedia
from moderation.services.media import media_check, media_from_upload, media_from_url

logger = logging.getLogger(__name__)


def bank_entry_create(
    *,
    bank: str,
    source: str,
    sha256: str,
    pdq: str = "",
    pdq_quality: int | None = None,
    platform: Platform | None = None,
    scan_media: ScanMedia | None = None,
    note: str = "",
    created_by: AbstractBaseUser | None = None,
) -> BankEntry:
    entry = BankEntry.objects.create(
        bank=bank,
        source=source,
        platform=platform,
        sha256=sha256,
        pdq=pdq,
        pdq_quality=pdq_quality,
        scan_media=scan_media,
        note=note,
        created_by=created_by,
    )
    logger.info("bank entry %s added to %s (%s)", entry.pk, bank, platform or "global")
    return entry


def bank_entry_from_scan_media(
    *, bank: str, scan_media: ScanMedia, created_by: AbstractBaseUser | None = None, note: str = ""
) -> BankEntry:
    """A moderator's decision on scanned media (reports/appeals): a global entry from its stored hashes."""
    return bank_entry_create(
        bank=bank,
        source=BankEntry.Source.MODERATOR,
        sha256=scan_media.sha256,
        pdq=scan_media.pdq,
        pdq_quality=scan_media.pdq_quality,
        scan_media=scan_media,
        note=note,
        created_by=created_by,
    )


def known_fake_submit(
    *,
    platform: Platform,
    upload: UploadedFile | None = None,
    media_url: str = "",
    scan_id: UUID | None = None,
    media_index: int = 0,
    note: str = "",
) -> BankEntry:
    """A platform reports media it knows to be a deepfake: by file, by URL, or by one of its own scans."""
    given = [upload is not None, bool(media_url), scan_id is not None]
    if sum(given) != 1:
        raise ApplicationError("invalid", "Send exactly one of media, media_url or scan_id.")
    if scan_id is not None:
        row = (
            ScanMedia.objects.filter(scan__platform=platform, scan_id=scan_id, index=media_index)
            .only("pk", "sha256", "pdq", "pdq_quality")
            .first()
        )
        if row is None:  # another platform's scan looks exactly like a missing one
            raise ApplicationError("not_found", "No such scan media.", status=404)
        sha256, pdq, quality, scan_media = row.sha256, row.pdq, row.pdq_quality, row
    else:
        media = media_from_upload(upload, platform=platform) if upload is not None else None
        media = media or media_from_url(media_url, platform=platform)
        media_check(media, max_video_seconds=platform.max_video_seconds)  # no entry for unreadable media
        hashed = pdq_of_image(media.data) if media.kind == "image" else None
        sha256, scan_media = media.sha256, None
        pdq, quality = (hashed.hex, hashed.quality) if hashed else ("", None)
    return bank_entry_create(
        bank=BankEntry.Bank.KNOWN_FAKE,
        source=BankEntry.Source.PLATFORM,
        platform=platform,
        sha256=sha256,
        pdq=pdq,
        pdq_quality=quality,
        scan_media=scan_media,
        note=note,
    )


def bank_entry_delete(*, entry: BankEntry) -> None:
    logger.info("bank entry %s removed from %s", entry.pk, entry.bank)
    entry.delete()
