"""The moderators' watermark check: an uploaded image or video in, what FakeME's watermark says out.

The same recovery as the scan hook and the API (``moderation.provenance.watermarks``: current key
first, then ``WATERMARK_PREVIOUS_KEYS``); this module only reads the upload under a size cap and
turns every failure into an ``ApplicationError`` whose message a moderator can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from moderation.core.errors import ApplicationError
from moderation.core.media import media_from_bytes
from moderation.provenance.watermarks import watermark_recover_media
from watermark import MIN_SIDE

MAX_UPLOAD_BYTES = 200 * 1024 * 1024

# Friendlier words for the codes a moderator can cause (the services' messages stay as detail).
_HINTS = {
    "unsupported_media_type": "This file is not an image or video FakeME can read.",
    "corrupt_media": "The file is damaged or truncated and could not be decoded.",
    "empty_input": "The file is empty.",
    "image_too_small": f"The image is too small to carry FakeME's watermark (a side under {MIN_SIDE} px).",
    "image_too_large": "The image has too many pixels to be decoded safely.",
    "video_too_long": "The video is longer than FakeME reads.",
    "invalid_key": "The watermark key is not configured on this server (WATERMARK_KEY).",
}


@dataclass
class WatermarkCheck:
    name: str
    kind: str
    format: str
    size_bytes: int
    sha256: str
    found: bool
    payload: int | None
    generation_id: str | None
    confidence: float
    bit_errors: int | None
    key_index: int | None
    frames: int | None
    scale: float | None
    angle_deg: float | None

    @property
    def payload_hex(self) -> str:
        return "" if self.payload is None else f"0x{self.payload:010x}"

    @property
    def key_label(self) -> str:
        if self.key_index is None:
            return ""
        return "current key" if self.key_index == 0 else f"previous key #{self.key_index}"


def _read_capped(upload: UploadedFile) -> bytes:
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(
            "media_too_large", f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.", status=413
        )
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApplicationError(
            "media_too_large", f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.", status=413
        )
    return data


def watermark_inspect(*, upload: UploadedFile) -> WatermarkCheck:
    """Run watermark recovery on an uploaded file; bad input raises ``ApplicationError``."""
    data = _read_capped(upload)
    try:
        media = media_from_bytes(data, original_name=upload.name or "")
        result: dict[str, Any] = watermark_recover_media(media)
    except ApplicationError as exc:
        hint = _HINTS.get(exc.code)
        if hint and hint.rstrip(".") not in exc.message:
            exc.message = f"{hint} ({exc.message.rstrip('.')}.)"
        raise
    info = result.get("media") or {}
    return WatermarkCheck(
        name=upload.name or "upload",
        kind=info.get("kind", media.kind),
        format=info.get("format", media.format),
        size_bytes=int(info.get("size_bytes", media.size)),
        sha256=info.get("sha256", media.sha256),
        found=bool(result.get("found")),
        payload=result.get("payload"),
        generation_id=result.get("generation_id"),
        confidence=float(result.get("confidence") or 0.0),
        bit_errors=result.get("bit_errors"),
        key_index=result.get("key_index"),
        frames=result.get("frames"),
        scale=result.get("scale"),
        angle_deg=result.get("angle_deg"),
    )
