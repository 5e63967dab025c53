"""Video: every frame carries the mark; recovery votes over sampled frames.

Embedding marks each frame independently (same key, same payload, same tile position), so any
cut of the clip carries it. Recovery is a soft vote: the whitened canonical planes of the
sampled frames are summed before the geometry search and decoding, so each frequency's
correlation is the sum of the frames' correlations and the noise (the changing picture) grows
only as the square root of the number of frames. That reads marks no single frame gives up
after heavy re-encoding. The false-positive bound of ``recover`` holds per clip: there is one
search and one decode set per key, whatever the number of frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from detection.errors import DetectionError
from detection.video import sample_frames
from watermark.embedding import embed
from watermark.errors import InvalidImage, UnreadableMedia
from watermark.keys import check_key, check_keys
from watermark.recovery import NOT_FOUND, Recovery, prepare, recover_plane

MAX_FRAMES = 64  # frames combined by default; more adds little once the mark is readable


def embed_video_frames(
    frames: Iterable[np.ndarray], payload: int | bytes, key: bytes
) -> Iterator[np.ndarray]:
    """Each RGB frame with the mark embedded (lazily, one frame at a time)."""
    key = check_key(key)
    for frame in frames:
        yield embed(frame, payload, key)


class FrameVote:
    """The soft vote, fed one frame at a time, so a caller that decodes a clip anyway (the detector)
    can vote on its frames without a second decode. Frames of another size than the first are
    skipped (a clip has one frame size); at most ``max_frames`` are combined."""

    def __init__(self, keys: bytes | Sequence[bytes], max_frames: int = MAX_FRAMES) -> None:
        self.keys = check_keys(keys)
        self.max_frames = max_frames
        self.used = 0
        self._total: np.ndarray | None = None

    @property
    def full(self) -> bool:
        return self.used >= self.max_frames

    def add(self, frame: np.ndarray) -> None:
        if self.full:
            return
        plane = prepare(frame)
        if self._total is None:
            self._total = plane.astype(np.float64)
        elif plane.shape == self._total.shape:
            self._total += plane
        else:
            return
        self.used += 1

    def result(self) -> Recovery:
        if self._total is None:
            raise InvalidImage("No frames were given.")
        found = recover_plane((self._total / self.used).astype(np.float32), self.keys)
        return _with_frames(found, self.used)


def recover_from_frames(
    frames: Iterable[np.ndarray], keys: bytes | Sequence[bytes], max_frames: int = MAX_FRAMES
) -> Recovery:
    """Soft vote over up to ``max_frames`` RGB frames (see ``FrameVote``); ``frames`` in the result
    counts those used."""
    vote = FrameVote(keys, max_frames)
    for frame in frames:
        vote.add(frame)
        if vote.full:
            break
    return vote.result()


def recover_video_file(
    path: str | Path,
    keys: bytes | Sequence[bytes],
    fps: float = 2.0,
    max_frames: int = MAX_FRAMES,
    max_pixels: int = 50_000_000,
) -> Recovery:
    """Sample ``fps`` frames per second of a video file (``detection.video``) and vote over them.

    Decoding problems (not a video, truncated, too long, a frame over ``max_pixels`` whatever the
    header said) raise ``UnreadableMedia`` with the decoder's code in ``detail_code``.
    """
    try:
        frames = sample_frames(path, fps=fps, max_frames=max_frames, max_pixels=max_pixels)
        return recover_from_frames((rgb for _, _, rgb in frames), keys, max_frames)
    except DetectionError as exc:
        raise UnreadableMedia(exc.message, detail_code=exc.code) from exc


def _with_frames(result: Recovery, frames: int) -> Recovery:
    return replace(NOT_FOUND if not result.found else result, frames=frames)
