"""Typed errors of the engines: ``EngineError`` and each engine's family under it.

Every engine error carries a stable machine-readable ``code`` (what an API returns and clients
branch on) and a human-readable message. Anything an engine rejects about its input raises one of
these; anything else escaping it is a bug. The HTTP status of each code is kept in one table by
the service layer (``moderation.core.errors.STATUS_BY_CODE``), not here: engines know no HTTP.

The family bases of the other engines (``WatermarkError``, ``SwapError``, ``SimSwapError``) are
defined here, beside ``DetectionError``, and re-exported by ``watermark.errors``,
``generation.landmark.errors`` and ``generation.simswap.errors``, where their subclasses live:
``InvalidImage``, which every engine raises, is one class that belongs to every family (an
``except SwapError`` catches it as an ``except WatermarkError`` does), and a class can only derive
from bases that its own module can import. ``detection`` is the engine layer every other engine
may import; none of it may import the ones above it.
"""

from __future__ import annotations


class EngineError(Exception):
    """The base of every engine error: a stable ``code``, a ``message`` (``default_message`` when
    none is given) and ``to_dict()`` for an API's error body."""

    code: str = "engine_error"
    default_message: str = "The engine could not process the input."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# -- the engine families -----------------------------------------------------------------------------
class DetectionError(EngineError):
    code = "detection_error"
    default_message = "The media could not be analysed."


class WatermarkError(EngineError):
    """The watermark package's errors (``watermark.errors``)."""

    code = "watermark_error"
    default_message = "The watermark operation failed."


class SwapError(EngineError):
    """The built-in (landmark) face-swap engine's errors (``generation.landmark.errors``)."""

    code = "swap_error"
    default_message = "The face swap failed."


class SimSwapError(EngineError):
    """The SimSwap engine's errors (``generation.simswap.errors``)."""

    code = "simswap_error"
    default_message = "The SimSwap engine failed."


class InvalidImage(WatermarkError, SwapError, SimSwapError):
    """Not an ``(H, W, 3)`` uint8 RGB array (wrong dtype, shape, not an array at all), or too small
    for what is asked of it. Raised by the watermark and both swap engines, caught by any of their
    families' ``except``."""

    code = "invalid_image"
    default_message = "Expected an RGB image as an (H, W, 3) uint8 array."


# -- detection (decoding and the model) ----------------------------------------------------------------
class EmptyInput(DetectionError):
    code = "empty_input"
    default_message = "The file is empty."


class UnsupportedMedia(DetectionError):
    code = "unsupported_media_type"
    default_message = "The content is not a supported image or video format."


class CorruptMedia(DetectionError):
    code = "corrupt_media"
    default_message = "The file is damaged or truncated and could not be decoded."


class ImageTooLarge(DetectionError):
    code = "image_too_large"
    default_message = "The image dimensions exceed the allowed limit."


class VideoTooLong(DetectionError):
    code = "video_too_long"
    default_message = "The video exceeds the allowed duration."


class ModelUnavailable(DetectionError):
    code = "model_unavailable"
    default_message = "The detection model could not be loaded."
