"""Test data for the reports tests (and the console's): moderators, scanned posts, reported posts.

Everything goes through real rows and the real services; nothing runs the detector unless a test executes the
on-commit callbacks (the queued re-scans).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import AbstractBaseUser

from moderation.core.media import media_from_bytes, media_store
from moderation.core.models import Platform
from moderation.provenance.pdq import pdq_of_image
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.verdicts import hashtags_with_tag
from reports.models import ReviewItem
from reports.services.reports import report_create


def moderator(username: str | None = None, *, staff: bool = True, **extra: Any) -> AbstractBaseUser:
    """A user who may (``staff=True``) or may not use the review services."""
    return get_user_model().objects.create_user(
        username=username or f"mod-{uuid.uuid4().hex[:6]}", password="x", is_staff=staff, **extra
    )


def scanned_post(
    platform: Platform,
    *,
    external_id: str,
    image: bytes,
    probability: float | None = 0.5,
    verdict: str = "real",
    tagged: bool = False,
    hashtags: Sequence[str] = ("#moon",),
    author_id: str = "author-1",
) -> Scan:
    """A completed scan of a post with one stored image, as the scan API would have left it.

    The verdict and probability are given (not computed) so that tests choose the queue's order.
    """
    media = media_from_bytes(image, original_name="post.jpg")
    pdq = pdq_of_image(image)
    hashtags_out = hashtags_with_tag(hashtags, platform.fake_hashtag) if tagged else list(hashtags)
    scan = Scan.objects.create(
        platform=platform,
        external_id=external_id,
        author_id=author_id,
        hashtags_in=list(hashtags),
        hashtags_out=hashtags_out,
        mode=Scan.Mode.SYNC,
        status=Scan.Status.COMPLETED,
        verdict=verdict,
        probability=probability,
        decided_by="model",
        tagged=tagged,
        progress_percent=100,
    )
    ScanMedia.objects.create(
        scan=scan,
        index=0,
        kind=media.kind,
        format=media.format,
        size_bytes=media.size,
        sha256=media.sha256,
        pdq=pdq.hex if pdq else "",
        pdq_quality=pdq.quality if pdq else None,
        storage_key=media_store(media),
        verdict=verdict,
        probability=probability,
        decided_by="model",
    )
    return scan


def reported_post(
    platform: Platform,
    *,
    external_id: str,
    image: bytes,
    reporters: Sequence[str] = ("reporter-1",),
    category: str = "unlabelled_deepfake",
    probability: float | None = 0.5,
    **scan_fields: Any,
) -> ReviewItem:
    """A scanned post reported by each of ``reporters`` (through ``report_create``, by scan id)."""
    scan = scanned_post(
        platform, external_id=external_id, image=image, probability=probability, **scan_fields
    )
    item = None
    for reporter in reporters:
        item = report_create(
            platform=platform,
            external_post_id=external_id,
            reporter_id=reporter,
            category=category,
            scan_id=scan.pk,
        ).item
    assert item is not None, "give at least one reporter"
    return ReviewItem.objects.select_related("platform", "scan").get(pk=item.pk)


class CountingPasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 hasher (real work: ~0.1 s a check here) that counts the passwords it checks,
    so a test can tell how many sign-in attempts got as far as a password check."""

    iterations = 100_000
    checked = 0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingPasswordHasher._lock:
            CountingPasswordHasher.checked += 1
        return super().verify(password, encoded)
