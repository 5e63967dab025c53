"""Engine errors -> the API's ``ApplicationError`` (same stable codes for both engines).

The statuses are the one table of ``moderation.core.errors`` (``STATUS_BY_CODE``): anything about the
caller's media is 422; ``models_missing`` and ``simswap_unavailable`` are 503, ``watermark_required`` 500.
"""

from __future__ import annotations

# The engine families' bases, from the module that defines them all: importing ``generation.simswap``
# for ``SimSwapError`` would load torch.
from detection.errors import DetectionError, EngineError, SimSwapError, SwapError
from moderation.core.errors import ApplicationError, from_engine_error, http_status


def engine_error(exc: Exception) -> ApplicationError:
    """An ``ApplicationError`` for a landmark or SimSwap engine error, or a detection (decoding) error."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, EngineError):
        return from_engine_error(exc)
    code = getattr(exc, "code", "swap_error")
    message = getattr(exc, "message", str(exc))
    return ApplicationError(code, message, status=http_status(code))


def is_engine_error(exc: Exception) -> bool:
    return isinstance(exc, SwapError | SimSwapError | DetectionError)
