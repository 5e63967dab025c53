"""Scans in: a post's media are received, checked and stored; small images are scanned inside the
request, videos (and ``async``) are queued for the worker. All-or-nothing: on any error no row is
left and every stored file is deleted again.

The platform's hashtag is added, once, when the post is fake and the platform is not in
observe-only mode; an uncertain post is never tagged (``moderation.scans.verdicts``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from detection.engine import Detector
from detection.errors import DetectionError
from moderation.core.errors import from_detection_error
from moderation.core.media import (
    MediaInput,
    media_budget_check,
    media_check,
    media_collect,
    media_delete,
    media_store,
)
from moderation.core.models import Platform
from moderation.core.shared_detector import get_detector
from moderation.provenance.credentials import credentials_check
from moderation.provenance.pdq import pdq_of_image
from moderation.provenance.watermarks import watermark_check
from moderation.scans.idempotency import (
    idempotency_fingerprint,
    idempotency_key_check,
    idempotency_lookup,
    idempotency_record,
)
from moderation.scans.jobs import scan_enqueue
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.outcomes import MediaOutcome, effective_thresholds, media_outcome, ms, outcomes_apply

logger = logging.getLogger(__name__)


@dataclass
class ScanSubmission:
    scan: Scan
    replayed: bool = False  # an Idempotency-Key replay of an earlier request


def _analyze_now(
    platform: Platform, items: Sequence[MediaInput]
) -> tuple[Detector, list[MediaOutcome], list[Any]]:
    """Scan images inside the request; any bad input raises before anything is stored."""
    detector = get_detector()
    thresholds = effective_thresholds(platform, detector)
    outcomes, pdqs = [], []
    for item in items:
        try:  # first: the engine refuses a bomb from its header, which pdq_of_image does not check
            result = detector.analyze_image(item.data)
        except DetectionError as exc:
            raise from_detection_error(exc) from exc
        pdq = pdq_of_image(item.data)
        outcomes.append(
            media_outcome(
                platform=platform,
                thresholds=thresholds,
                result=result,
                sha256=item.sha256,
                pdq=pdq.hex if pdq else "",
                pdq_quality=pdq.quality if pdq else None,
                watermark=watermark_check(item.data, kind=item.kind),
                credentials=credentials_check(item.data, item.format),
            )
        )
        pdqs.append(pdq)
    return detector, outcomes, pdqs


def scan_submit(
    *,
    platform: Platform,
    uploads: Sequence[UploadedFile] = (),
    media_urls: Sequence[str] = (),
    external_id: str = "",
    author_id: str = "",
    hashtags: Sequence[str] = (),
    force_async: bool = False,
    idempotency_key: str | None = None,
) -> ScanSubmission:
    """Create a scan. Small images are scanned now (status completed); videos and ``force_async`` are queued.

    All-or-nothing: on any error no row is left and every stored file is deleted again.
    """
    started, started_at = time.perf_counter(), timezone.now()
    key = idempotency_key_check(idempotency_key) if idempotency_key is not None else None
    items = media_collect(platform=platform, uploads=uploads, urls=media_urls)
    media_budget_check(items)
    t_collected = time.perf_counter()

    fingerprint = ""
    if key is not None:
        fingerprint = idempotency_fingerprint(
            {
                "external_id": external_id,
                "author_id": author_id,
                "hashtags": list(hashtags),
                "media_urls": list(media_urls),
                "media_sha256": [item.sha256 for item in items[: len(uploads)]],
                "async": force_async,
            }
        )
        earlier = idempotency_lookup(platform=platform, key=key, fingerprint=fingerprint)
        if earlier is not None:
            return ScanSubmission(earlier, replayed=True)

    sync_limit = settings.FAKEME_SCANS["SYNC_IMAGE_MAX_BYTES"]
    sync = not force_async and all(i.kind == "image" and i.size <= sync_limit for i in items)
    detector, outcomes, pdqs = _analyze_now(platform, items) if sync else (None, [], [])
    if not sync:
        for item in items:  # queued: refuse what the worker would refuse, before anything is stored
            media_check(item, max_video_seconds=platform.max_video_seconds)
        pdqs = [pdq_of_image(i.data) if i.kind == "image" else None for i in items]
    t_analyzed = time.perf_counter()

    stored: list[str] = []
    try:
        for item in items:
            stored.append(media_store(item))
        t_stored = time.perf_counter()
        with transaction.atomic():
            scan = Scan(
                platform=platform,
                external_id=external_id,
                author_id=author_id,
                hashtags_in=list(hashtags),
                hashtags_out=list(hashtags),
                mode=Scan.Mode.SYNC if sync else Scan.Mode.ASYNC,
                observe_only=platform.observe_only,
            )
            rows = [
                ScanMedia(
                    scan=scan,
                    index=index,
                    kind=item.kind,
                    format=item.format,
                    source_url=item.source_url,
                    original_name=item.original_name,
                    size_bytes=item.size,
                    sha256=item.sha256,
                    pdq=pdq.hex if pdq else "",
                    pdq_quality=pdq.quality if pdq else None,
                    storage_key=storage_key,
                )
                for index, (item, pdq, storage_key) in enumerate(zip(items, pdqs, stored, strict=True))
            ]
            if sync:
                assert detector is not None
                outcomes_apply(scan, rows, outcomes, detector)
                scan.started_at = started_at
                scan.timings_ms = {
                    "receive": ms(t_collected - started),
                    "analyze": ms(t_analyzed - t_collected),
                    "store": ms(t_stored - t_analyzed),
                    "total": ms(time.perf_counter() - started),
                }
            scan.save()
            if sync:  # received when the request began: created_at is never after started_at
                Scan.objects.filter(pk=scan.pk).update(created_at=started_at)
                scan.created_at = started_at
            ScanMedia.objects.bulk_create(rows)
            if key is not None:
                idempotency_record(platform=platform, key=key, fingerprint=fingerprint, scan=scan)
            if not sync:
                scan_id = scan.pk
                # robust: once committed the scan exists; an in-process run that fails (embedded mode)
                # is logged and left to the requeue sweep, never turned into an error answer.
                transaction.on_commit(lambda: scan_enqueue(scan_id), robust=True)
    except IntegrityError:
        media_delete(stored)
        if key is not None:  # a concurrent request with the same key won the race
            earlier = idempotency_lookup(platform=platform, key=key, fingerprint=fingerprint)
            if earlier is not None:
                return ScanSubmission(earlier, replayed=True)
        raise
    except BaseException:
        media_delete(stored)
        raise
    if not sync:
        # In embedded mode the on-commit run has already finished the scan: answer what it is now.
        scan.refresh_from_db()
    logger.info(
        "scan %s %s platform=%s media=%d verdict=%s",
        scan.pk, scan.mode, platform.name, len(rows), scan.verdict or "-",
    )  # fmt: skip
    return ScanSubmission(scan)
