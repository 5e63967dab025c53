"""Engine errors -> the API's ``ApplicationError`` (same stable codes for both engines)."""

from __future__ import annotations

from detection.errors import DetectionError
from generation.landmark import SwapError
from moderation.errors import ApplicationError, from_detection_error

# Anything about the caller's media is 422; these are the service's own fault.
_STATUS = {"models_missing": 503, "watermark_required": 500, "simswap_unavailable": 503}


def engine_error(exc: Exception) -> ApplicationError:
    """An ``ApplicationError`` for a landmark or SimSwap engine error, or a detection (decoding) error."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, DetectionError):
        return from_detection_error(exc)
    code = getattr(exc, "code", "swap_error")
    message = getattr(exc, "message", str(exc))
    return ApplicationError(code, message, status=_STATUS.get(code, 422))


def is_engine_error(exc: Exception) -> bool:
    from generation.simswap.errors import SimSwapError  # plain module; no torch import

    return isinstance(exc, SwapError | SimSwapError | DetectionError)
