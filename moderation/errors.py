"""The one application error type: a stable machine-readable code, a message, optional field errors.

Services raise it; the API's exception handler (``moderation.api.errors``) renders it as
``{"error": {"code", "message", "fields"}}`` with its HTTP status.
"""

from __future__ import annotations

from typing import Any

from detection.errors import DetectionError


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


# HTTP status for each detection-engine error code (anything else about the media: 422).
_DETECTION_STATUS = {
    "empty_input": 400,
    "unsupported_media_type": 415,
    "image_too_large": 413,
    "model_unavailable": 503,
}


def detection_status(code: str) -> int:
    """The HTTP status of a detection-engine error code, wherever in the API it surfaces."""
    return _DETECTION_STATUS.get(code, 422)


def from_detection_error(exc: DetectionError) -> ApplicationError:
    return ApplicationError(exc.code, exc.message, status=detection_status(exc.code))
