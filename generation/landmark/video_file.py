"""Swapping through a video file: every frame read through the shared frame guard, swapped, marked
and written as MPEG-4 Part 2 (``mp4v``); a partial output is removed on any error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from detection.errors import DetectionError, ImageTooLarge, VideoTooLong
from detection.video import VideoReader
from generation.landmark.errors import NoFaceInTarget, PoseMismatch, UnreadableVideo
from generation.landmark.inputs import SourceFace
from generation.landmark.marking import WatermarkSpec, check_watermark
from generation.landmark.results import VideoSwapResult
from generation.landmark.smoothing import SmoothingSettings

if TYPE_CHECKING:
    from generation.landmark.engine import LandmarkSwapper


def swap_video_file(
    swapper: LandmarkSwapper,
    source: np.ndarray | SourceFace,
    video: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    watermark: WatermarkSpec,
    smoothing: SmoothingSettings | None,
    max_frames: int | None,
    max_pixels: int,
) -> VideoSwapResult:
    """Swap through a video file and write an MPEG-4 Part 2 (``mp4v``) file, every frame marked.

    ``no_face_in_target`` when no frame has a face, ``unreadable_video`` when the file
    has no decodable frame; on any error the partial output file is removed."""
    spec = check_watermark(watermark)
    src = swapper.prepare_source(source)
    out_path = Path(out_path)
    try:
        reader = VideoReader(video, max_pixels=max_pixels)
    except DetectionError as exc:
        if isinstance(exc, ImageTooLarge | VideoTooLong):
            raise  # a limit, not damage: its own stable code
        raise UnreadableVideo(exc.message) from exc
    fps = reader.info.fps
    writer: cv2.VideoWriter | None = None
    frames = swapped = refused = 0
    width = height = 0
    try:
        for result in swapper.swap_frames(
            src, read_frames(reader, max_frames), watermark=spec, fps=fps, smoothing=smoothing
        ):
            if writer is None:
                height, width = result.image.shape[:2]
                writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
                if not writer.isOpened():
                    raise UnreadableVideo(f"Could not open {out_path.name} for writing.")
            writer.write(cv2.cvtColor(result.image, cv2.COLOR_RGB2BGR))
            frames += 1
            swapped += result.swapped
            refused += result.pose_refused
        if frames == 0:
            raise UnreadableVideo("The video has no decodable frames.")
        if swapped == 0 and refused:
            raise PoseMismatch(
                f"The face in the video is turned too differently from the source's on every frame "
                f"where it was found ({refused}); use a source photo turned like the target."
            )
        if swapped == 0:
            raise NoFaceInTarget("No face was found in any frame of the video.")
    except BaseException:
        if writer is not None:
            writer.release()
            writer = None
        out_path.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
        if writer is not None:
            writer.release()
    return VideoSwapResult(out_path, frames, swapped, float(fps), width, height, spec.payload_bytes)


def read_frames(reader: VideoReader, max_frames: int | None) -> Iterator[np.ndarray]:
    """Every frame (at most ``max_frames``) through the shared frame guard (``detection.video``); a file
    with no decodable frame, or damaged past reading, is ``unreadable_video``."""
    try:
        for _, _, rgb in reader.every_frame(max_frames=max_frames):
            yield rgb
    except DetectionError as exc:
        if isinstance(exc, ImageTooLarge | VideoTooLong):
            raise  # a limit, not damage: its own stable code
        raise UnreadableVideo(exc.message) from exc
