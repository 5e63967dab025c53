"""The one application error type: a stable machine-readable code, a message, optional field errors.

Services raise it; the API's exception handler (``moderation.core.api.errors``) renders it as
``{"error": {"code", "message", "fields"}}`` with its HTTP status.
"""

from __future__ import annotations

from typing import Any

from detection.errors import EngineError


class ApplicationError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}


# The HTTP status of every engine error code (``detection.errors.EngineError`` and its families), the one
# table the API and the console answer with (tests/hardening/test_error_table.py checks that every engine
# code is here). Anything about the caller's media is 422; what is the service's own fault is 5xx.
STATUS_BY_CODE: dict[str, int] = {
    # detection: decoding and the model
    "detection_error": 422,
    "empty_input": 400,
    "unsupported_media_type": 415,
    "corrupt_media": 422,
    "image_too_large": 413,
    "video_too_long": 422,
    "model_unavailable": 503,
    # shared by the watermark and both swap engines
    "engine_error": 422,
    "invalid_image": 422,
    # watermark (``unreadable_media`` answers with its decoder's code, ``detail_code``, where it has one)
    "watermark_error": 422,
    "image_too_small": 422,
    "invalid_payload": 422,
    "invalid_key": 503,  # WATERMARK_KEY is not configured: the server's fault
    "unreadable_media": 422,
    # the built-in (landmark) swap engine
    "swap_error": 422,
    "no_face_in_source": 422,
    "several_faces_in_source": 422,
    "no_face_in_target": 422,
    "pose_mismatch": 422,
    "unreadable_video": 422,
    "models_missing": 503,
    "watermark_required": 500,
    # SimSwap
    "simswap_error": 422,
    "simswap_unavailable": 503,
    "simswap_checkpoint_invalid": 422,
    "no_face_found": 422,
}
DEFAULT_ENGINE_STATUS = 422


def http_status(code: str) -> int:
    """The HTTP status of an engine error code, wherever it surfaces (API, console, job errors)."""
    return STATUS_BY_CODE.get(code, DEFAULT_ENGINE_STATUS)


def from_engine_error(exc: EngineError) -> ApplicationError:
    """An engine error as the application's error: its code and message, the table's status."""
    return ApplicationError(exc.code, exc.message, status=http_status(exc.code))


# Decoding errors surface on every media path (scans, uploads, evidence, the console's previews).
from_detection_error = from_engine_error
