"""Pictures rendered on demand for the evidence view: per-face heatmaps and video frame thumbnails.

Both read the stored media (gone after the retention period: a 410 with a message) and use the
boxes stored with the scan, so the heatmap is drawn for exactly the face the verdict scored. A
heatmap is the model's predicted blending boundary (``detection``'s ``boundary`` head) over the
face crop, from the detector currently configured. Results are cached, as moderators reopen items.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.cache import cache

from detection.errors import DetectionError
from detection.faces import crop_face
from detection.imaging import load_image
from detection.plots import heatmap_overlay_png
from detection.video import read_frame
from moderation.core.errors import ApplicationError, from_detection_error
from moderation.core.media import media_local_path, media_read
from moderation.core.shared_detector import get_detector
from moderation.scans.models import ScanMedia

HEATMAP_SIDE = 224  # display size of a face crop with its heatmap
THUMB_WIDTH = 320
CACHE_SECONDS = 24 * 3600


def _require_stored(media: ScanMedia) -> None:
    if not media.storage_key or media.deleted_at is not None:
        raise ApplicationError(
            "media_deleted",
            "The media file has been deleted (retention period); its scores remain.",
            status=410,
        )


def _frame_result(media: ScanMedia, frame: int) -> dict[str, Any]:
    for item in (media.result or {}).get("frames") or []:
        if int(item.get("index", -1)) == frame:
            return item
    raise ApplicationError("not_found", f"Frame {frame} was not among the sampled frames.", status=404)


def _faces_of(media: ScanMedia, frame: int | None) -> list[dict[str, Any]]:
    if media.kind == ScanMedia.Kind.VIDEO:
        if frame is None:
            raise ApplicationError("frame_required", "Name the video frame (?frame=N).", status=400)
        return list(_frame_result(media, frame).get("faces") or [])
    return list((media.result or {}).get("faces") or [])


def video_frame(media: ScanMedia, frame: int) -> np.ndarray:
    """RGB frame number ``frame`` of the stored video, through the shared frame guard (``read_frame``)."""
    _require_stored(media)
    _frame_result(media, frame)  # only sampled frames: bounds the work a request can ask for
    try:
        with media_local_path(media.storage_key, f".{media.format}") as path:
            return read_frame(path, frame, max_pixels=settings.FAKEME_DETECTOR["MAX_PIXELS"])
    except DetectionError as exc:
        raise from_detection_error(exc) from exc


def _picture(media: ScanMedia, frame: int | None) -> np.ndarray:
    if media.kind == ScanMedia.Kind.VIDEO:
        assert frame is not None
        return video_frame(media, frame)
    _require_stored(media)
    try:
        return load_image(media_read(media.storage_key), max_pixels=settings.FAKEME_DETECTOR["MAX_PIXELS"])
    except DetectionError as exc:
        raise from_detection_error(exc) from exc


def face_heatmap_png(media: ScanMedia, *, face: int, frame: int | None = None) -> bytes:
    """PNG of one scored face with the model's blending-boundary heatmap over it."""
    faces = _faces_of(media, frame)
    if not 0 <= face < len(faces):
        raise ApplicationError("not_found", f"There is no face {face} in this media.", status=404)
    try:
        detector = get_detector()
    except DetectionError as exc:
        raise from_detection_error(exc) from exc
    info = detector.model_info
    key = f"console:heatmap:{media.pk}:{frame}:{face}:{info.name}:{info.version}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rgb = _picture(media, frame)
    box = tuple(float(v) for v in faces[face]["box"])
    classifier = detector.classifier
    out = classifier.forward([classifier.crop(rgb, box)], with_heatmaps=True)
    assert out.heatmaps is not None
    display = crop_face(rgb, box, HEATMAP_SIDE, classifier.crop_margin)
    png = heatmap_overlay_png(display, out.heatmaps[0])
    cache.set(key, png, CACHE_SECONDS)
    return png


def frame_thumbnail_jpeg(media: ScanMedia, *, frame: int, threshold: float | None) -> bytes:
    """JPEG of one sampled video frame, its faces boxed (red at or above the threshold, else green)."""
    key = f"console:thumb:{media.pk}:{frame}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    faces = _faces_of(media, frame)
    rgb = np.ascontiguousarray(video_frame(media, frame))
    h, w = rgb.shape[:2]
    scale = THUMB_WIDTH / w if w > THUMB_WIDTH else 1.0
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    for item in faces:
        x1, y1, x2, y2 = (round(float(v) * scale) for v in item["box"])
        fake = threshold is not None and float(item.get("probability") or 0.0) >= threshold
        cv2.rectangle(small, (x1, y1), (x2, y2), (211, 47, 47) if fake else (46, 125, 50), 2)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ApplicationError("render_failed", "The frame could not be encoded.", status=500)
    data = buf.tobytes()
    cache.set(key, data, CACHE_SECONDS)
    return data


QUEUE_THUMB_SIDE = 96


def jpeg_thumbnail(rgb: np.ndarray, side: int, quality: int = 80) -> bytes:
    """``rgb`` shrunk to fit a ``side`` × ``side`` square (never enlarged), as a JPEG."""
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    small = cv2.resize(
        rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ApplicationError("render_failed", "The thumbnail could not be made.", status=500)
    return buf.tobytes()


def media_thumbnail_jpeg(media: ScanMedia) -> bytes:
    """A small JPEG of the media for the queue: the image, or a video's first sampled frame."""
    key = f"console:media-thumb:{media.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    frame = None
    if media.kind == ScanMedia.Kind.VIDEO:
        frames = (media.result or {}).get("frames") or []
        if not frames:
            raise ApplicationError("not_found", "The video has no sampled frame yet.", status=404)
        frame = int(frames[0]["index"])
    jpeg = jpeg_thumbnail(_picture(media, frame), QUEUE_THUMB_SIDE)
    cache.set(key, jpeg, CACHE_SECONDS)
    return jpeg
