"""Scans: submit a post's media (scanned now or queued), run a queued scan, decide, tag.

The verdict rule (watermark, banks, the classifier's tag and review thresholds) lives in
``moderation.services.verdicts``; here media are received, analysed, stored and the result saved.
The platform's hashtag is added, once, when the post is fake and the platform is not in
observe-only mode; an uncertain post is never tagged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from detection.engine import AnalysisResult, Detector
from detection.errors import DetectionError
from moderation.banks import BankMatches, pdq_of_image
from moderation.banks import bank_match as bank_match_find
from moderation.detector import get_detector
from moderation.errors import ApplicationError, from_detection_error
from moderation.models import Platform, Scan, ScanMedia, Verdict
from moderation.services.credentials import credentials_check
from moderation.services.idempotency import (
    idempotency_fingerprint,
    idempotency_key_check,
    idempotency_lookup,
    idempotency_record,
)
from moderation.services.media import (
    MediaInput,
    media_budget_check,
    media_check,
    media_collect,
    media_delete,
    media_local_path,
    media_read,
    media_store,
)
from moderation.services.run_locks import run_lock, run_lock_taken
from moderation.services.verdicts import Thresholds, hashtags_with_tag, media_assess, scan_decide
from moderation.services.watermarks import VideoWatermarkVote, watermark_check

logger = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 0.25  # progress rows are written at most this often


# -- outcomes ------------------------------------------------------------------------------------
@dataclass
class MediaOutcome:
    verdict: str
    probability: float | None
    decided_by: str
    reasons: list[str]
    result: dict[str, Any]
    matches: BankMatches = field(default_factory=BankMatches)
    watermark: dict[str, Any] | None = None
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, Any] | None = None


def _effective_thresholds(platform: Platform, detector: Detector) -> Thresholds:
    """The platform's thresholds where it set them, else the model card's."""
    tag = platform.threshold if platform.threshold is not None else detector.threshold
    review = platform.review_threshold if platform.review_threshold is not None else detector.review_threshold
    return Thresholds(tag, review)


def _outcome(
    *,
    platform: Platform,
    thresholds: Thresholds,
    result: AnalysisResult,
    sha256: str,
    pdq: str,
    pdq_quality: int | None,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any] | None,
) -> MediaOutcome:
    matches = bank_match_find(platform=platform, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality)
    judged = media_assess(
        result=result, thresholds=thresholds, matches=matches, watermark=watermark, credentials=credentials
    )
    # The engine's own verdict (at the model card's threshold) and model block would contradict or
    # repeat the scan's; keep its evidence: faces or frames, aggregates, sizes, timings.
    evidence = {k: v for k, v in result.to_dict().items() if k not in ("verdict", "model")}
    return MediaOutcome(
        judged.verdict,
        result.probability,
        judged.decided_by,
        judged.reasons,
        evidence,
        matches,
        watermark,
        judged.signals,
        credentials,
    )


def _apply_outcomes(
    scan: Scan, rows: Sequence[ScanMedia], outcomes: Sequence[MediaOutcome], detector: Detector
) -> None:
    """Fill the scan and its media rows from the per-media outcomes (the caller saves them)."""
    platform = scan.platform
    known: list[dict[str, Any]] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        row.verdict, row.probability = outcome.verdict, outcome.probability
        row.decided_by, row.reasons = outcome.decided_by, outcome.reasons
        row.result, row.watermark, row.signals = outcome.result, outcome.watermark, outcome.signals
        row.credentials = outcome.credentials
        row.known_matches = outcome.matches.to_list()
        known += [{**m, "media_index": row.index} for m in row.known_matches]

    scan.verdict, scan.decided_by = scan_decide([(o.verdict, o.decided_by) for o in outcomes])
    probabilities = [o.probability for o in outcomes if o.probability is not None]
    scan.probability = max(probabilities) if probabilities else None
    scan.reasons = list(dict.fromkeys(r for o in outcomes for r in o.reasons))
    scan.known_matches = known
    # The scan shows the first mark found, else the first media's (negative) recovery.
    checked = [o.watermark for o in outcomes if o.watermark]
    found = [w for w in checked if w.get("found")]
    scan.watermark = (found or checked or [None])[0]

    info = detector.model_info
    scan.model_name, scan.model_version, scan.model_threshold = info.name, info.version, info.threshold
    thresholds = _effective_thresholds(platform, detector)
    scan.threshold, scan.review_threshold = thresholds.tag, thresholds.review
    scan.observe_only = platform.observe_only
    scan.tagged = scan.verdict == Verdict.FAKE and not platform.observe_only
    scan.hashtags_out = (
        hashtags_with_tag(scan.hashtags_in, platform.fake_hashtag) if scan.tagged else list(scan.hashtags_in)
    )
    scan.status = Scan.Status.COMPLETED
    scan.progress_percent = 100
    scan.completed_at = timezone.now()


_SCAN_RESULT_FIELDS = [
    "verdict", "probability", "decided_by", "reasons", "known_matches", "watermark", "model_name",
    "model_version", "model_threshold", "threshold", "review_threshold", "observe_only", "tagged",
    "hashtags_out", "status", "progress_percent", "frames_done", "frames_total", "completed_at",
    "timings_ms",
]  # fmt: skip
_MEDIA_RESULT_FIELDS = [
    "verdict",
    "probability",
    "decided_by",
    "reasons",
    "result",
    "watermark",
    "known_matches",
    "signals",
    "credentials",
]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


# -- submit ----------------------------------------------------------------------------------
@dataclass
class ScanSubmission:
    scan: Scan
    replayed: bool = False  # an Idempotency-Key replay of an earlier request


def _analyze_now(
    platform: Platform, items: Sequence[MediaInput]
) -> tuple[Detector, list[MediaOutcome], list[Any]]:
    """Scan images inside the request; any bad input raises before anything is stored."""
    detector = get_detector()
    thresholds = _effective_thresholds(platform, detector)
    outcomes, pdqs = [], []
    for item in items:
        try:  # first: the engine refuses a bomb from its header, which pdq_of_image does not check
            result = detector.analyze_image(item.data)
        except DetectionError as exc:
            raise from_detection_error(exc) from exc
        pdq = pdq_of_image(item.data)
        outcomes.append(
            _outcome(
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
                _apply_outcomes(scan, rows, outcomes, detector)
                scan.started_at = started_at
                scan.timings_ms = {
                    "receive": _ms(t_collected - started),
                    "analyze": _ms(t_analyzed - t_collected),
                    "store": _ms(t_stored - t_analyzed),
                    "total": _ms(time.perf_counter() - started),
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


def scan_enqueue(scan_id: Any) -> bool:
    """Send the scan to the workers. False when the broker cannot be reached: the scan stays queued
    (the API answers 202 all the same) and the ``requeue_stranded`` sweep sends it again later."""
    from kombu.exceptions import OperationalError as BrokerError

    from moderation.tasks import scan_process  # tasks import services; import here to avoid a cycle

    try:
        scan_process.delay(str(scan_id))
    except BrokerError as exc:
        logger.error("scan %s stays queued, broker unavailable: %s", scan_id, exc)
        return False
    return True


# -- one runner per scan ---------------------------------------------------------------------------
def _advisory_key(scan_id: Any) -> int:
    """The scan's PostgreSQL advisory-lock key: the first 64 bits of its UUID, as a signed bigint."""
    return int.from_bytes(UUID(str(scan_id)).bytes[:8], "big", signed=True)


def scan_run_lock(scan_id: Any) -> AbstractContextManager[bool]:
    """The scan's run lock (``run_locks.run_lock``): True if this process has it, False if another has."""
    return run_lock(_advisory_key(scan_id), f"scan {scan_id}")


def scan_is_running(scan_id: Any) -> bool:
    """Whether some process holds the scan's run lock right now (PostgreSQL only; else False)."""
    return run_lock_taken(_advisory_key(scan_id), f"scan {scan_id}")


# -- run (Celery) ------------------------------------------------------------------------------
class _Progress:
    """Writes percentage and frames done to the scan row, at most every PROGRESS_MIN_INTERVAL_S."""

    def __init__(self, scan: Scan, n_media: int) -> None:
        self.scan_id = scan.pk
        self.n_media = max(n_media, 1)
        self.frames_before = 0
        self.last_write = 0.0

    def media_done(self, index: int, frames: int = 0) -> None:
        self.frames_before += frames
        self._write(int(100 * (index + 1) / self.n_media), self.frames_before, self.frames_before, force=True)

    def for_media(self, index: int) -> Callable[[int, int], None]:
        def callback(done: int, total: int) -> None:
            percent = int(100 * (index + done / max(total, 1)) / self.n_media)
            self._write(percent, self.frames_before + done, self.frames_before + total, force=done >= total)

        return callback

    def _write(self, percent: int, done: int, total: int, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < PROGRESS_MIN_INTERVAL_S:
            return
        self.last_write = now
        Scan.objects.filter(pk=self.scan_id, status=Scan.Status.PROCESSING).update(
            progress_percent=min(percent, 99), frames_done=done, frames_total=total
        )


def _scan_claim(scan_id: str) -> Scan | None:
    """Mark the scan processing and count the attempt; None when there is nothing (left) to do."""
    max_attempts = settings.FAKEME_SCANS["MAX_SCAN_ATTEMPTS"]
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            logger.warning("scan %s no longer exists; nothing to do", scan_id)
            return None
        if scan.status in (Scan.Status.COMPLETED, Scan.Status.FAILED):
            return None  # a redelivery of a finished scan
        if scan.attempts >= max_attempts:
            _scan_fail(scan, "worker_lost", f"The scan's worker died {scan.attempts} times; giving up.")
            return None
        if scan.attempts:
            logger.warning("scan %s: attempt %d after a lost worker", scan.pk, scan.attempts + 1)
        else:
            logger.info("scan %s started", scan.pk)  # which worker took it, for operators and drills
        scan.attempts += 1
        scan.status = Scan.Status.PROCESSING
        scan.started_at = timezone.now()
        scan.progress_percent = scan.frames_done = scan.frames_total = 0
        scan.save(
            update_fields=[
                "attempts",
                "status",
                "started_at",
                "progress_percent",
                "frames_done",
                "frames_total",
            ]
        )
    return Scan.objects.select_related("platform").get(pk=scan_id)


def _scan_fail(scan: Scan, code: str, message: str) -> None:
    from moderation.webhooks import webhook_delivery_create

    with transaction.atomic():
        Scan.objects.filter(pk=scan.pk).update(
            status=Scan.Status.FAILED,
            error_code=code,
            error_message=message[:2000],
            completed_at=timezone.now(),
        )
        scan.refresh_from_db()
        webhook_delivery_create(scan=scan, event_type="scan.failed")
    logger.warning("scan %s failed: %s %s", scan.pk, code, message)


def _analyze_stored(
    scan: Scan, row: ScanMedia, detector: Detector, progress: _Progress
) -> tuple[AnalysisResult, dict[str, Any] | None, dict[str, Any]]:
    """(engine result, watermark recovery, Content Credentials) of one stored medium."""
    if not row.storage_key:
        raise ApplicationError("media_missing", "The scan's stored media has been deleted.")
    if row.kind == ScanMedia.Kind.IMAGE:
        data = media_read(row.storage_key)
        return (
            detector.analyze_image(data),
            watermark_check(data, kind=row.kind),
            credentials_check(data, row.format),
        )
    vote = VideoWatermarkVote()
    with media_local_path(row.storage_key, f".{row.format}") as path:
        result = detector.analyze_video(path, progress=progress.for_media(row.index), frame_hook=vote.add)
        with open(path, "rb") as video:  # streamed: the clip is not read into memory a second time
            credentials = credentials_check(video, row.format)
    return result, vote.check(), credentials


def scan_run(*, scan_id: str) -> Scan | None:
    """The body of the ``scan_process`` task: analyse a queued scan's stored media, then notify.

    Runs each scan at most once at a time (``scan_run_lock``); a duplicate delivery returns None.
    """
    with scan_run_lock(scan_id) as held:
        if not held:
            logger.warning("scan %s is already running elsewhere; this delivery is dropped", scan_id)
            return None
        return _scan_run_locked(scan_id)


def _scan_run_locked(scan_id: str) -> Scan | None:
    from moderation.webhooks import webhook_delivery_create

    scan = _scan_claim(scan_id)
    if scan is None:
        return None
    started = time.perf_counter()
    queue_wait = (scan.started_at - scan.created_at).total_seconds() if scan.started_at else 0.0
    rows = list(scan.media.order_by("index"))
    progress = _Progress(scan, len(rows))
    try:
        detector = get_detector(max_video_seconds=scan.platform.max_video_seconds)
        thresholds = _effective_thresholds(scan.platform, detector)
        outcomes = []
        for row in rows:
            result, watermark, credentials = _analyze_stored(scan, row, detector, progress)
            outcomes.append(
                _outcome(
                    platform=scan.platform,
                    thresholds=thresholds,
                    result=result,
                    sha256=row.sha256,
                    pdq=row.pdq,
                    pdq_quality=row.pdq_quality,
                    watermark=watermark,
                    credentials=credentials,
                )
            )
            progress.media_done(row.index, getattr(result, "frames_sampled", 0))
    except DetectionError as exc:
        _scan_fail(scan, exc.code, exc.message)
        return scan
    except ApplicationError as exc:
        _scan_fail(scan, exc.code, exc.message)
        return scan
    except SoftTimeLimitExceeded:
        _scan_fail(scan, "scan_timeout", "The scan took longer than its time limit.")
        return scan
    except (OperationalError, InterfaceError):
        raise  # the database went away: not the scan's fault; the task retries it (moderation.tasks)
    except Exception as exc:
        logger.exception("scan %s crashed", scan.pk)
        _scan_fail(scan, "internal_error", f"{type(exc).__name__}: {exc}")
        return scan

    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("platform").get(pk=scan.pk)
        _apply_outcomes(scan, rows, outcomes, detector)
        scan.frames_done = scan.frames_total = progress.frames_before
        scan.timings_ms = {"queue_wait": _ms(queue_wait), "analyze": _ms(time.perf_counter() - started)}
        scan.save(update_fields=_SCAN_RESULT_FIELDS)
        ScanMedia.objects.bulk_update(rows, _MEDIA_RESULT_FIELDS)
        webhook_delivery_create(scan=scan, event_type="scan.completed")
    logger.info("scan %s completed: %s (%s)", scan.pk, scan.verdict, scan.decided_by)
    return scan
