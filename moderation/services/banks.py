"""Bank entries: known fakes submitted by platforms or confirmed by moderators, and allowed media."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from moderation.banks import pdq_of_image
from moderation.errors import ApplicationError
from moderation.models import BankEntry, Platform, ScanMedia
from moderation.services.media import media_check, media_from_upload, media_from_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BankEntryResult:
    entry: BankEntry
    created: bool  # False: the bank already held this media for this owner; ``entry`` is that entry


def bank_entry_add(
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
) -> BankEntryResult:
    """The entry for this media (SHA-256) in ``bank`` for ``platform`` (None: the shared bank).

    One entry per media per bank and owner (database constraints): when the bank holds the media
    already, that entry is returned unchanged, also when a concurrent request added it a moment ago.
    """
    owner = {"bank": bank, "platform": platform, "sha256": sha256}
    existing = BankEntry.objects.filter(**owner).first()
    if existing is not None:
        return BankEntryResult(existing, created=False)
    try:
        with transaction.atomic():  # a savepoint: the constraint's error must not break the caller's
            entry = BankEntry.objects.create(
                **owner,
                source=source,
                pdq=pdq,
                pdq_quality=pdq_quality,
                scan_media=scan_media,
                note=note,
                created_by=created_by,
            )
    except IntegrityError:
        existing = BankEntry.objects.filter(**owner).first()
        if existing is None:
            raise
        return BankEntryResult(existing, created=False)
    logger.info("bank entry %s added to %s (%s)", entry.pk, bank, platform or "shared")
    return BankEntryResult(entry, created=True)


def bank_entry_from_scan_media(
    *,
    bank: str,
    scan_media: ScanMedia,
    platform: Platform | None,
    created_by: AbstractBaseUser | None = None,
    note: str = "",
) -> BankEntryResult:
    """A moderator's decision on scanned media (reports/appeals), from its stored hashes, into
    ``platform``'s own bank (None: the shared one)."""
    return bank_entry_add(
        bank=bank,
        source=BankEntry.Source.MODERATOR,
        platform=platform,
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
) -> BankEntryResult:
    """A platform reports media it knows to be a deepfake: by file, by URL, or by one of its own scans.

    The same media twice (by SHA-256) is one entry: the second call returns the first entry
    (``created`` False; the API answers 200 instead of 201), so withdrawing it withdraws the media.
    """
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
    return bank_entry_add(
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
