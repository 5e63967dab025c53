"""Video decoding for the rest of the product: ``VideoReader`` and the one-call helpers around it.

The reader, how it samples and how it bounds the work, is ``detection.video_reader``; every frame
goes through the frame guard (``detection.frame_guard``). Here: sampling a file, one frame of it, the
admission check of a video stored now and analysed later, and spilling uploaded bytes to a file.
``prefetched`` (``detection.prefetch``) decodes samples ahead on a background thread.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from detection.prefetch import prefetched
from detection.video_reader import ASSUMED_FPS, MAX_FPS, MIN_FPS, VideoInfo, VideoReader

__all__ = [
    "ASSUMED_FPS",
    "MAX_FPS",
    "MIN_FPS",
    "VideoInfo",
    "VideoReader",
    "check_video",
    "prefetched",
    "read_frame",
    "sample_frames",
    "temporary_video_file",
]


def sample_frames(
    path: str | Path,
    fps: float = 2.0,
    max_seconds: float = 600.0,
    max_frames: int = 300,
    max_pixels: int = 50_000_000,
) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(frame_index, timestamp_s, rgb)`` at ``fps`` samples per second of video."""
    with VideoReader(path, fps, max_seconds, max_frames, max_pixels) as reader:
        yield from reader.frames()


def read_frame(path: str | Path, number: int = 0, max_pixels: int = 50_000_000) -> np.ndarray:
    """RGB of one frame (``VideoReader.frame_at``): the first one by default, e.g. for a thumbnail."""
    with VideoReader(path, max_pixels=max_pixels, threads=1) as reader:
        return reader.frame_at(number)


def check_video(path: str | Path, max_seconds: float = 600.0, max_pixels: int = 50_000_000) -> VideoInfo:
    """The video's header limits (``VideoReader``) and ``VideoReader.check``; its info if it passes."""
    with VideoReader(path, max_seconds=max_seconds, max_pixels=max_pixels, threads=1) as reader:
        reader.check()
        return reader.info


@contextmanager
def temporary_video_file(data: bytes, suffix: str = ".mp4") -> Iterator[Path]:
    """FFmpeg reads files, not buffers: spill uploaded bytes to a temp file."""
    fd, name = tempfile.mkstemp(prefix="fakeme-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
