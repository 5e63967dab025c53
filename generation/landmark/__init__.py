"""The built-in face-swap engine: dlib landmarks, triangulated warp, colour transfer, blending.

Plain Python (no Django). Every output is watermarked inside the engine: the entry points
require a ``WatermarkSpec`` (payload + key) and never return an unmarked frame. See
docs/generation.md.

    from generation.landmark import LandmarkSwapper, WatermarkSpec
    swapper = LandmarkSwapper()
    result = swapper.swap_image(source_rgb, target_rgb, watermark=WatermarkSpec(payload=42, key=key))
    result.image  # RGB uint8, carries payload 42 under key
"""

from generation.landmark.engine import (
    LandmarkSwapper,
    SourceFace,
    SwapResult,
    SwapSettings,
    VideoSwapResult,
    WatermarkSpec,
)
from generation.landmark.errors import (
    InvalidImage,
    ModelsMissing,
    NoFaceInSource,
    NoFaceInTarget,
    PoseMismatch,
    SeveralFacesInSource,
    SwapError,
    UnreadableVideo,
    WatermarkRequired,
)
from generation.landmark.smoothing import LandmarkSmoother, SmoothingSettings

__all__ = [
    "InvalidImage",
    "LandmarkSmoother",
    "LandmarkSwapper",
    "ModelsMissing",
    "NoFaceInSource",
    "NoFaceInTarget",
    "PoseMismatch",
    "SeveralFacesInSource",
    "SmoothingSettings",
    "SourceFace",
    "SwapError",
    "SwapResult",
    "SwapSettings",
    "UnreadableVideo",
    "VideoSwapResult",
    "WatermarkRequired",
    "WatermarkSpec",
]
