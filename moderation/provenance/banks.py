"""Bank entries: known fakes submitted by platforms or confirmed by moderators, and allowed media."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Model

from moderation.core.models import Platform
from moderation.provenance.models import BankEntry

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
    scan_media: Model | None = None,  # the scanned media it came from (moderation.scans)
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


def bank_entry_delete(*, entry: BankEntry) -> None:
    logger.info("bank entry %s removed from %s", entry.pk, entry.bank)
    entry.delete()
