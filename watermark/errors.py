"""Typed errors of the watermark package.

Each carries a stable machine-readable ``code`` (what an API returns and clients branch on)
and a human-readable message, like every engine's (``detection.errors.EngineError``). Anything the
package rejects about its input raises one of these; anything else escaping it is a bug.
"""

from __future__ import annotations

# The family base and ``InvalidImage`` (shared by every engine) live with ``EngineError``.
from detection.errors import InvalidImage, WatermarkError

__all__ = [
    "ImageTooSmall",
    "InvalidImage",
    "InvalidKey",
    "InvalidPayload",
    "UnreadableMedia",
    "WatermarkError",
]


class ImageTooSmall(WatermarkError):
    code = "image_too_small"
    default_message = "The image is too small to carry a watermark."


class InvalidPayload(WatermarkError):
    code = "invalid_payload"
    default_message = "The payload does not fit the watermark."


class InvalidKey(WatermarkError):
    code = "invalid_key"
    default_message = "A watermark key must be non-empty bytes."


class UnreadableMedia(WatermarkError):
    """Bytes that could not be decoded as an image (empty, truncated, garbage, or a video).

    ``detail_code`` keeps the decoder's own code (``detection.errors``: ``empty_input``,
    ``corrupt_media``, ``unsupported_media_type``, ``image_too_large``).
    """

    code = "unreadable_media"
    default_message = "The data could not be decoded as an image."

    def __init__(self, message: str | None = None, detail_code: str | None = None) -> None:
        super().__init__(message)
        self.detail_code = detail_code

    def to_dict(self) -> dict[str, str]:
        out = super().to_dict()
        if self.detail_code:
            out["detail_code"] = self.detail_code
        return out
