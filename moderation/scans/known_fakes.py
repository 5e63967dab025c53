"""Banks fed from scans: a platform's known fake given by one of its scans (or a file, a URL), and a
moderator's decision on scanned media. The banks themselves are ``moderation.provenance.banks``."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile

from moderation.core.errors import ApplicationError
from moderation.core.media import media_check, media_from_upload, media_from_url
from moderation.core.models import Platform
from moderation.provenance.banks import BankEntryResult, bank_entry_add
from moderation.provenance.models import BankEntry
from moderation.provenance.pdq import pdq_of_image
from moderation.scans.models import ScanMedia


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
