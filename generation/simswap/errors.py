"""Typed errors of the SimSwap engine, each with a stable ``code`` for the service layer to map."""

from __future__ import annotations

# The family base and ``InvalidImage`` (shared by every engine) live with ``EngineError``.
from detection.errors import InvalidImage, SimSwapError

__all__ = [
    "CheckpointMissing",
    "CheckpointRejected",
    "InvalidImage",
    "NoFaceFound",
    "NoFaceInSource",
    "NoFaceInTarget",
    "SimSwapError",
]


class CheckpointMissing(SimSwapError):
    """A checkpoint path is not configured, or nothing readable is there."""

    code = "simswap_unavailable"
    default_message = "The SimSwap checkpoints are not configured."


class CheckpointRejected(SimSwapError):
    """The file is there but is not a checkpoint of the expected network (or is unsafe to unpickle)."""

    code = "simswap_checkpoint_invalid"
    default_message = "The file is not a usable SimSwap checkpoint."


class NoFaceFound(SimSwapError):
    code = "no_face_found"
    default_message = "No face was found in the image."


class NoFaceInSource(NoFaceFound):
    # Same codes as the built-in landmark engine's errors, so the API answers alike for both.
    code = "no_face_in_source"
    default_message = "No face was found in the source image."


class NoFaceInTarget(NoFaceFound):
    code = "no_face_in_target"
    default_message = "No face was found in the target image."
