"""What the built-in engine returns: marked swaps (images, frames, video files) and its private,
unmarked composite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.landmark.faces import Box
from generation.landmark.warp import Region


@dataclass(frozen=True)
class SwapResult:
    image: np.ndarray  # the swapped RGB frame, watermarked
    payload: bytes
    faces_in_target: int  # in a video, 1 on frames where the face was tracked, not detected
    target_box: Box | None = None  # the face that was swapped (the largest, or the tracked one)
    target_landmarks: np.ndarray | None = None  # (68, 2) as detected (smoothed in videos)
    warped_landmarks: np.ndarray | None = None  # (78, 2) where the source mesh was warped to
    mirrored: bool = False  # the source was flipped to match the target's pose
    pose_refused: bool = False  # a face was found but its pose was too far from the source's

    @property
    def swapped(self) -> bool:
        return self.warped_landmarks is not None


@dataclass(frozen=True)
class Composite:
    """An unmarked swap (private to the engine, its benchmark and training swaps)."""

    image: np.ndarray
    dst: np.ndarray  # (78, 2) where the source mesh was warped to
    alpha: np.ndarray | None  # the blend mask over ``region`` (float32 in [0, 1]); None: no swap
    region: Region
    mirrored: bool = False


@dataclass(frozen=True)
class VideoSwapResult:
    path: Path
    frames: int
    frames_swapped: int
    fps: float
    width: int
    height: int
    payload: bytes
