"""FakeME's own watermark in the service layer: the keys, what a recovered mark names, recovery of media.

Every scan runs recovery on every media item; a mark found under any of our keys proves the media came
from FakeME's generator and names the generation record (see ``generation_id_for_payload``). The
watermark package itself is plain Python; this module adds settings, error mapping and logging.
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any

from django.conf import settings

import watermark
from moderation.core.errors import ApplicationError, http_status
from moderation.core.media import MediaInput
from watermark.ids import generation_id_for_payload

logger = logging.getLogger(__name__)


def watermark_keys() -> list[bytes]:
    """The current key first, then the previous ones (rotation: old marks stay readable)."""
    return [settings.WATERMARK_KEY, *settings.WATERMARK_PREVIOUS_KEYS]


def recovery_to_dict(recovery: watermark.Recovery) -> dict[str, Any]:
    out: dict[str, Any] = {**recovery.to_dict(), "checked": True}
    out["generation_id"] = (
        generation_id_for_payload(recovery.payload)
        if recovery.found and recovery.payload is not None
        else None
    )
    return out


def _recover(data: bytes, *, kind: str) -> watermark.Recovery:
    keys = watermark_keys()
    if kind == "video":
        with tempfile.NamedTemporaryFile(suffix=".video") as tmp:
            tmp.write(data)
            tmp.flush()
            return watermark.recover_video_file(
                tmp.name, keys, max_pixels=settings.FAKEME_DETECTOR["MAX_PIXELS"]
            )
    return watermark.recover_bytes(data, keys)


def watermark_check(data: bytes, *, kind: str) -> dict[str, Any] | None:
    """Recovery for one scanned media item, as stored on the scan; None when it cannot carry a mark.

    Never fails the scan: the detector has already accepted the media, so a decoder complaint here
    (an image below the watermark's minimum size, say) only means no mark can be read from it.
    """
    try:
        return recovery_to_dict(_recover(data, kind=kind))
    except watermark.ImageTooSmall:
        return None
    except watermark.WatermarkError as exc:
        logger.warning("watermark check skipped: %s (%s)", exc, exc.code)
        return None


class VideoWatermarkVote:
    """The watermark vote over the frames the detector samples from a video (one decode serves both).

    ``add`` is the detector's frame hook: it never raises, so a clip whose frames cannot carry a mark
    (smaller than the watermark's minimum, say) is still scanned, with no watermark result."""

    def __init__(self) -> None:
        self.vote = watermark.FrameVote(watermark_keys())
        self.refused: watermark.WatermarkError | None = None

    def add(self, frame: Any) -> None:
        if self.refused is not None or self.vote.full:
            return
        try:
            self.vote.add(frame)
        except watermark.WatermarkError as exc:
            self.refused = exc

    def check(self) -> dict[str, Any] | None:
        """``watermark_check`` for the clip; None when no frame could be used."""
        if not self.vote.used:
            return None
        try:
            return recovery_to_dict(self.vote.result())
        except watermark.WatermarkError as exc:
            logger.warning("watermark check skipped: %s (%s)", exc, exc.code)
            return None


def watermark_recover_media(media: MediaInput) -> dict[str, Any]:
    """The recovery endpoint's answer for one uploaded or fetched file; bad media raise ApplicationError."""
    try:
        recovery = _recover(media.data, kind=media.kind)
    except watermark.WatermarkError as exc:
        code = getattr(exc, "detail_code", None) or exc.code
        # A decoder's code (image_too_large, ...) keeps the status it has on every other endpoint.
        raise ApplicationError(code, str(exc), status=http_status(code)) from exc
    return {
        **recovery_to_dict(recovery),
        "media": {
            "kind": media.kind,
            "format": media.format,
            "sha256": media.sha256,
            "size_bytes": media.size,
        },
    }
