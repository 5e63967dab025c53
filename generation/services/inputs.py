"""Submit-time checks of a generation's source and target, so a bad request gets its 4xx at once.

The source must be an image showing exactly one face (the built-in engine's ``prepare_source``
decides, for both engines, so the codes are the same: ``no_face_in_source``,
``several_faces_in_source``). An image target must be large enough to carry the watermark and show
a face; a video target must decode and be short enough. Face descriptors (for the protected-identity
check) are computed only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings

import watermark
from detection.errors import DetectionError
from detection.imaging import load_image
from detection.video import VideoReader, temporary_video_file
from generation.landmark import LandmarkSwapper, SourceFace, SwapError
from generation.landmark import faces as landmark_faces
from generation.landmark import identity as landmark_identity
from generation.services.errors import engine_error
from moderation.core.errors import ApplicationError
from moderation.core.media import MediaInput

MAX_TARGET_FACES = 5  # faces of one target (or sampled frame) compared with protected identities


@dataclass
class SourceInput:
    media: MediaInput
    rgb: np.ndarray
    face: SourceFace

    def descriptor(self) -> np.ndarray:
        return landmark_identity.descriptor(self.rgb, self.face.box)


@dataclass
class TargetInput:
    media: MediaInput
    info: dict[str, Any]
    descriptors: list[np.ndarray] = field(default_factory=list)  # only when asked for


def source_check(media: MediaInput) -> SourceInput:
    """The source decoded, with its one face (422 with the engine's code otherwise)."""
    if media.kind != "image":
        raise ApplicationError(
            "source_not_image", "The source must be a photo (an image) of one face.", status=422
        )
    try:
        rgb = load_image(media.data, max_pixels=settings.FAKEME_GENERATION["MAX_PIXELS"])
        face = LandmarkSwapper().prepare_source(rgb)
    except (DetectionError, SwapError) as exc:
        raise engine_error(exc) from exc
    return SourceInput(media=media, rgb=rgb, face=face)


def _min_side(width: int, height: int) -> None:
    if min(width, height) < watermark.MIN_SIDE:
        raise ApplicationError(
            "target_too_small",
            f"The target is {width}×{height}; its short side must be at least {watermark.MIN_SIDE} px "
            "to carry the watermark.",
            status=422,
        )


def _descriptors(rgb: np.ndarray, boxes: list[landmark_faces.Box]) -> list[np.ndarray]:
    return [landmark_identity.descriptor(rgb, box) for box in boxes[:MAX_TARGET_FACES]]


def target_check(media: MediaInput, *, with_descriptors: bool) -> TargetInput:
    try:
        if media.kind == "image":
            return _image_target(media, with_descriptors)
        return _video_target(media, with_descriptors)
    except (DetectionError, SwapError) as exc:
        raise engine_error(exc) from exc


def _image_target(media: MediaInput, with_descriptors: bool) -> TargetInput:
    rgb = load_image(media.data, max_pixels=settings.FAKEME_GENERATION["MAX_PIXELS"])
    height, width = rgb.shape[:2]
    _min_side(width, height)
    boxes = landmark_faces.detect(rgb)
    if not boxes:
        raise ApplicationError("no_face_in_target", "No face was found in the target image.", status=422)
    info = {"width": width, "height": height, "faces": len(boxes)}
    return TargetInput(media, info, _descriptors(rgb, boxes) if with_descriptors else [])


def _video_target(media: MediaInput, with_descriptors: bool) -> TargetInput:
    """Probe the clip (limits) and decode a few frames spread over it (faces for the identity check)."""
    config = settings.FAKEME_GENERATION
    descriptors: list[np.ndarray] = []
    with temporary_video_file(media.data, suffix=f".{media.format}") as path:
        # A very high sampling rate with max_frames = n: the reader spreads n samples over the clip.
        with VideoReader(
            path,
            fps=1000.0,
            max_seconds=config["MAX_VIDEO_SECONDS"],
            max_frames=config["PROTECTED_VIDEO_SAMPLES"],
            max_pixels=config["MAX_PIXELS"],
        ) as reader:
            info = reader.info
            _min_side(info.width, info.height)
            for _, _, rgb in reader.frames():
                if with_descriptors:
                    descriptors += _descriptors(rgb, landmark_faces.detect(rgb))
    details = {"width": info.width, "height": info.height, "fps": round(info.fps, 3)}
    details |= {"frame_count": info.frame_count, "duration_s": info.duration_s}
    return TargetInput(media, details, descriptors)
