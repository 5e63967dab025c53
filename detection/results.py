"""What the detection engine returns: per-face, per-image, per-frame and per-video results.

``ImageResult`` and ``VideoResult`` (``AnalysisResult``) are what ``Detector.analyze`` gives; their
``to_dict()`` is the JSON the API and ``manage.py detect --json`` print.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detection.classifier import ModelInfo

FAKE, REAL, NOT_APPLICABLE = "fake", "real", "not_applicable"


@dataclass
class FaceResult:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the (EXIF-rotated) image
    landmarks: tuple[tuple[float, float], ...]
    detector_confidence: float
    probability: float
    heatmap_png: bytes | None = None

    def to_dict(self) -> dict[str, object]:
        """The face as JSON; ``heatmap_png_base64`` only when a heatmap was asked for and made (never a
        field that is always null)."""
        out: dict[str, object] = {
            "box": [round(v, 2) for v in self.box],
            "landmarks": [[round(x, 2), round(y, 2)] for x, y in self.landmarks],
            "detector_confidence": round(self.detector_confidence, 6),
            "probability": round(self.probability, 6),
        }
        if self.heatmap_png:
            out["heatmap_png_base64"] = base64.b64encode(self.heatmap_png).decode("ascii")
        return out


@dataclass
class ImageResult:
    verdict: str
    probability: float | None  # None when no face was found
    faces: list[FaceResult]
    model: ModelInfo
    timings_ms: dict[str, float]
    width: int
    height: int
    # With no face found: how many faces a search below ``min_face_size`` sees (too small to judge).
    small_faces: int = 0
    kind: str = field(default="image", init=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "verdict": self.verdict,
            "probability": None if self.probability is None else round(self.probability, 6),
            "faces": [f.to_dict() for f in self.faces],
            "model": self.model.to_dict(),
            "timings_ms": dict(self.timings_ms),
            "width": self.width,
            "height": self.height,
        }


@dataclass
class FrameResult:
    index: int  # frame number in the stream
    timestamp: float  # seconds
    probability: float | None  # max over the frame's faces; None when it has none
    faces: list[FaceResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "timestamp": round(self.timestamp, 4),
            "probability": None if self.probability is None else round(self.probability, 6),
            "faces": [f.to_dict() for f in self.faces],
        }


@dataclass
class VideoResult:
    verdict: str
    probability: float | None  # the chosen aggregate; None when no frame had a face
    aggregate: dict[str, float | None]  # {"mean": ..., "confident": ...}
    aggregation: str  # which aggregate gave ``probability``
    frames: list[FrameResult]
    model: ModelInfo
    timings_ms: dict[str, float]
    fps: float  # the video's own frame rate
    duration_s: float | None
    frames_sampled: int
    sample_fps: float = 2.0
    width: int = 0
    height: int = 0
    truncated: bool = False  # the frame cap stopped sampling before the end
    kind: str = field(default="video", init=False)

    @property
    def frames_with_faces(self) -> int:
        return sum(1 for f in self.frames if f.probability is not None)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "verdict": self.verdict,
            "probability": None if self.probability is None else round(self.probability, 6),
            "aggregate": {k: None if v is None else round(v, 6) for k, v in self.aggregate.items()},
            "aggregation": self.aggregation,
            "frames": [f.to_dict() for f in self.frames],
            "model": self.model.to_dict(),
            "timings_ms": dict(self.timings_ms),
            "fps": round(self.fps, 4),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 4),
            "frames_sampled": self.frames_sampled,
            "frames_with_faces": self.frames_with_faces,
            "sample_fps": self.sample_fps,
            "width": self.width,
            "height": self.height,
            "truncated": self.truncated,
        }


AnalysisResult = ImageResult | VideoResult
