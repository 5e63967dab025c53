"""The body of the ``scan_process`` task: analyse a queued scan's stored media, decide, notify.

The lifecycle (run lock, claim, attempts, failure, progress rows) is the platform core's
(``moderation.core.jobs``); this module is what a scan does while it runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, transaction

from detection.engine import AnalysisResult, Detector
from detection.errors import DetectionError
from moderation.core.errors import ApplicationError
from moderation.core.jobs import (
    JobKind,
    JobProgress,
    job_fail,
    job_kind,
    job_notify,
    job_queue_wait_s,
    job_run,
)
from moderation.core.media import media_local_path, media_read
from moderation.core.shared_detector import get_detector
from moderation.provenance.credentials import credentials_check
from moderation.provenance.watermarks import VideoWatermarkVote, watermark_check
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.outcomes import (
    MEDIA_RESULT_FIELDS,
    SCAN_RESULT_FIELDS,
    effective_thresholds,
    media_outcome,
    ms,
    outcomes_apply,
)

logger = logging.getLogger(__name__)
SCAN = "scan"  # the registered job kind (moderation.scans.jobs.SCAN_JOBS)


class _Progress:
    """A scan's progress over its media: each medium is an equal share, a video's frames fill it."""

    def __init__(self, kind: JobKind, scan: Scan, n_media: int) -> None:
        self.write = JobProgress(kind, scan.pk)
        self.n_media = max(n_media, 1)
        self.frames_before = 0

    def media_done(self, index: int, frames: int = 0) -> None:
        self.frames_before += frames
        self.write(int(100 * (index + 1) / self.n_media), self.frames_before, self.frames_before, force=True)

    def for_media(self, index: int) -> Callable[[int, int], None]:
        def callback(done: int, total: int) -> None:
            percent = int(100 * (index + done / max(total, 1)) / self.n_media)
            self.write(percent, self.frames_before + done, self.frames_before + total, force=done >= total)

        return callback


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


def scan_run(*, scan_id: Any) -> Scan | None:
    """Run a queued scan at most once at a time (the job's run lock); a duplicate delivery, a
    finished scan or one out of attempts returns None."""
    return job_run(job_kind(SCAN), scan_id, _scan_run_claimed)


def _scan_run_claimed(scan: Scan) -> Scan:
    kind = job_kind(SCAN)
    started = time.perf_counter()
    queue_wait = job_queue_wait_s(scan)
    rows = list(scan.media.order_by("index"))
    progress = _Progress(kind, scan, len(rows))
    try:
        detector = get_detector(max_video_seconds=scan.platform.max_video_seconds)
        thresholds = effective_thresholds(scan.platform, detector)
        outcomes = []
        for row in rows:
            result, watermark, credentials = _analyze_stored(scan, row, detector, progress)
            outcomes.append(
                media_outcome(
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
    except (DetectionError, ApplicationError) as exc:
        job_fail(kind, scan, exc.code, exc.message)
        return scan
    except SoftTimeLimitExceeded:
        job_fail(kind, scan, "scan_timeout", "The scan took longer than its time limit.")
        return scan
    except (OperationalError, InterfaceError):
        raise  # the database went away: not the scan's fault; the task retries it (moderation.scans.tasks)
    except Exception as exc:
        logger.exception("scan %s crashed", scan.pk)
        job_fail(kind, scan, "internal_error", f"{type(exc).__name__}: {exc}")
        return scan

    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("platform").get(pk=scan.pk)
        outcomes_apply(scan, rows, outcomes, detector)
        scan.frames_done = scan.frames_total = progress.frames_before
        scan.timings_ms = {"queue_wait": ms(queue_wait), "analyze": ms(time.perf_counter() - started)}
        scan.save(update_fields=SCAN_RESULT_FIELDS)
        ScanMedia.objects.bulk_update(rows, MEDIA_RESULT_FIELDS)
        job_notify(kind, scan, "completed")
    logger.info("scan %s completed: %s (%s)", scan.pk, scan.verdict, scan.decided_by)
    return scan
