"""Face crops of a platform's labelled media, for ``finetune_detector`` (``DIR/real``, ``DIR/fake``).

A scan's label is its latest feedback event (``reports.services.feedback``): a false positive is
real, a false negative fake, a "correct" takes the verdict (fake or real; an uncertain or face-less
verdict gives no label). Only images still stored and inside the platform's retention period are
read, and only face crops are written: never the photo itself. A fake image gives its most
suspicious face (the swapped one, usually), a real image every face.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import cv2
from django.utils import timezone

from detection.errors import DetectionError
from detection.faces import crop_face
from detection.imaging import load_image
from moderation.core.media import media_read
from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia, Verdict
from reports.models import ScanFeedback
from reports.services.feedback import feedback_events

CROP_SIZE = 256
# Wider than the classifier's ×1.3 crop: finetune_detector finds the face again with MTCNN.
CROP_MARGIN = 2.0


@dataclass
class ExportCounts:
    real: int = 0
    fake: int = 0
    skipped_expired: int = 0  # labelled, but the file is gone or past the retention period
    skipped_unlabelled: int = 0  # "correct" on an uncertain or face-less verdict
    skipped_videos: int = 0


def _label(kind: str, verdict: str) -> str | None:
    if kind == ScanFeedback.Kind.FALSE_POSITIVE:
        return "real"
    if kind == ScanFeedback.Kind.FALSE_NEGATIVE:
        return "fake"
    return {Verdict.FAKE: "fake", Verdict.REAL: "real"}.get(verdict)


def _write_jpeg(path: Path, rgb: object) -> None:
    """Atomically: a crash never leaves a half-written crop for training to trip over."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise OSError(f"could not encode {path.name}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.tobytes())
    os.replace(tmp, path)


def _faces(row: ScanMedia, label: str) -> list[dict]:
    faces = [f for f in (row.result or {}).get("faces", []) if f.get("box")]
    if label == "fake" and faces:
        return [max(faces, key=lambda f: f.get("probability") or 0.0)]
    return faces


def training_faces_export(*, platform: Platform, out: Path) -> ExportCounts:
    """Write the crops of ``platform``'s labelled images under ``out/real`` and ``out/fake``."""
    latest: dict[object, str] = {}
    for event in feedback_events(platform=platform):  # oldest first: the last word wins
        latest[event.scan_id] = event.kind
    for sub in ("real", "fake"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    oldest = timezone.now() - timedelta(days=platform.retention_days)
    counts = ExportCounts()
    scans = Scan.objects.filter(platform=platform, pk__in=list(latest)).prefetch_related("media")
    for scan in scans:
        label = _label(latest[scan.pk], scan.verdict)
        if label is None:
            counts.skipped_unlabelled += 1
            continue
        for row in scan.media.all():
            if row.kind != ScanMedia.Kind.IMAGE:
                counts.skipped_videos += 1
                continue
            if not row.storage_key or row.deleted_at is not None or scan.created_at < oldest:
                counts.skipped_expired += 1
                continue
            try:
                rgb = load_image(media_read(row.storage_key))
            except (OSError, DetectionError):
                counts.skipped_expired += 1
                continue
            for n, face in enumerate(_faces(row, label)):
                crop = crop_face(rgb, tuple(face["box"]), CROP_SIZE, margin=CROP_MARGIN)
                _write_jpeg(out / label / f"{scan.pk}-{row.index}-{n}.jpg", crop)
                setattr(counts, label, getattr(counts, label) + 1)
    return counts
