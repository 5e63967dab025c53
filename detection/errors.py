"""Typed errors of the detection engine.

Each carries a stable machine-readable ``code`` (what an API returns and clients branch on)
and a human-readable message. Anything the engine rejects about its input raises one of
these; anything else escaping it is a bug.
"""

from __future__ import annotations


class DetectionError(Exception):
    code: str = "detection_error"
    default_message: str = "The media could not be analysed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


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
