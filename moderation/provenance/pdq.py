"""Known-deepfake and allow banks: PDQ perceptual hashes and matching.

PDQ (Meta's ThreatExchange hash, via the ``pdqhash`` package) gives 256 bits that survive
resizing and re-encoding; two pictures within ``PDQ_MAX_DISTANCE`` bits (default 31, the
ThreatExchange recommendation) are taken as the same. Hashes whose PDQ quality is below
``PDQ_MIN_QUALITY`` (flat, featureless images) are matched by SHA-256 only. Videos are matched
by SHA-256 (exact re-uploads).

Which entries a scan is checked against (``bank_scope``): the calling platform's own entries
(what it submitted; moderators' decisions on its posts that are not shared), FakeME's own
generations, shared allow entries (staff only), and the shared known-deepfake bank (moderators'
confirmations on the posts of platforms that share them) unless the platform opted out
(``Platform.use_shared_known_fakes``). A platform never sees another platform's own entries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pdqhash
from django.conf import settings
from django.db.models import Q
from PIL import Image, ImageOps

from moderation.core.models import Platform
from moderation.provenance.models import BankEntry

PDQ_SIDE = 512  # PDQ reduces to 64x64 anyway; hashing a ≤512 px copy is ~20x faster than full 1080p


@dataclass(frozen=True)
class Pdq:
    hex: str
    quality: int


def pdq_of_image(data: bytes) -> Pdq | None:
    """PDQ of an encoded image, EXIF orientation applied; None if it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PDQ_SIDE, PDQ_SIDE))  # JPEG: decode at a reduced scale, much faster
            image = ImageOps.exif_transpose(image.convert("RGB"))
            image.thumbnail((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BOX)
            rgb = np.asarray(image, dtype=np.uint8)
    except Exception:  # the engine reports undecodable media with a proper code; no hash is no match
        return None
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return Pdq(hex=np.packbits(bits.astype(np.uint8)).tobytes().hex(), quality=int(quality))


def pdq_distance(a: str, b: str) -> int:
    return int(
        np.unpackbits(
            np.frombuffer(bytes.fromhex(a), np.uint8) ^ np.frombuffer(bytes.fromhex(b), np.uint8)
        ).sum()
    )


@dataclass
class BankMatch:
    entry_id: str | None  # only for the platform's own entries
    bank: str
    source: str
    distance: int | None  # None for an exact SHA-256 match without a usable PDQ

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.entry_id, "bank": self.bank, "source": self.source, "distance": self.distance}


@dataclass
class BankMatches:
    known_fake: list[BankMatch] = field(default_factory=list)
    allow: list[BankMatch] = field(default_factory=list)

    def to_list(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.allow + self.known_fake]


def _usable(pdq: str, quality: int | None) -> bool:
    return bool(pdq) and quality is not None and quality >= settings.FAKEME_SCANS["PDQ_MIN_QUALITY"]


def bank_scope(platform: Platform) -> Q:
    """The bank entries that apply to ``platform``'s scans (see the module docstring)."""
    shared = Q(platform__isnull=True)
    scope = Q(platform=platform) | (shared & Q(bank=BankEntry.Bank.ALLOW))
    scope |= shared & Q(source=BankEntry.Source.GENERATION)
    if platform.use_shared_known_fakes:
        scope |= shared
    return scope


def bank_match(
    *, platform: Platform, sha256: str, pdq: str = "", pdq_quality: int | None = None
) -> BankMatches:
    """Entries of both banks matching this media: same SHA-256, or PDQ within the distance limit."""
    rows = list(
        BankEntry.objects.filter(bank_scope(platform)).values_list(
            "id", "bank", "source", "platform_id", "sha256", "pdq", "pdq_quality"
        )
    )
    matches = BankMatches()
    if not rows:
        return matches
    distances: list[int | None] = [None] * len(rows)
    if _usable(pdq, pdq_quality):
        usable = [i for i, row in enumerate(rows) if _usable(row[5], row[6])]
        if usable:
            mine = np.frombuffer(bytes.fromhex(pdq), np.uint8)
            theirs = np.stack([np.frombuffer(bytes.fromhex(rows[i][5]), np.uint8) for i in usable])
            counts = np.unpackbits(theirs ^ mine, axis=1).sum(axis=1)
            for i, d in zip(usable, counts.tolist(), strict=True):
                distances[i] = int(d)
    limit = settings.FAKEME_SCANS["PDQ_MAX_DISTANCE"]
    for (entry_id, bank, source, owner, entry_sha, _, _), distance in zip(rows, distances, strict=True):
        if entry_sha != sha256 and (distance is None or distance > limit):
            continue
        match = BankMatch(str(entry_id) if owner == platform.pk else None, bank, source, distance)
        (matches.allow if bank == BankEntry.Bank.ALLOW else matches.known_fake).append(match)
    for found in (matches.allow, matches.known_fake):
        found.sort(key=lambda m: -1 if m.distance is None else m.distance)
    return matches
