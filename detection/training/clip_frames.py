"""Frames of the catalog's train-role clips as training images (``train_detector --clip-frames N``).

Photos alone left video frames (compression, motion blur, talking-head lighting) a domain the model
never saw: dev-eval fake clips were missed and real ones flagged. Frames of half of the train-role
clips join training, each clip's frames in a folder of its source (so the source-balanced draw
treats them as one more source per clip kind); the other half of the clips is never trained on and
stays for fitting the clip calibration (aggregate and logit shift), so that fit is made on clips the
model has not seen. Which half a clip is in depends on its file name only (stable across runs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from detection.training.catalog import Catalog
from detection.video import sample_frames

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
JPEG_QUALITY = 95


def trains_on(clip: Path) -> bool:
    """Whether a clip's frames are trained on (else it is kept for the clip calibration)."""
    return hashlib.sha256(clip.name.encode()).digest()[0] % 2 == 0


@dataclass
class ClipFrames:
    reals: list[str] = field(default_factory=list)  # frame folders, one per real video source
    fakes: list[str] = field(default_factory=list)
    trained_clips: list[str] = field(default_factory=list)  # paths of the clips whose frames were used
    frames: int = 0


def _evenly(items: list[np.ndarray], n: int) -> list[np.ndarray]:
    if len(items) <= n:
        return items
    picks = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in picks]


def extract_clip_frames(catalog: Catalog, out_dir: Path, per_clip: int, fps: float = 2.0) -> ClipFrames:
    """Write ``per_clip`` frames (evenly spread over the 2-fps samples) of every training-half clip of
    the catalog's train-role video sources under ``out_dir/<source folder>/``; existing frames are
    kept (a resumed run writes nothing again). Dev-eval clips are never read."""
    result = ClipFrames()
    for source in catalog.select(role="train", kind="video"):
        folder = out_dir / source.folder
        clips = sorted(p for p in source.path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        written = 0
        for clip in (c for c in clips if trains_on(c)):
            result.trained_clips.append(str(clip))
            done = sorted(folder.glob(f"{clip.stem}-*.jpg"))
            if done:
                written += len(done)
                continue
            frames = _evenly([rgb for _, _, rgb in sample_frames(clip, fps=fps)], per_clip)
            folder.mkdir(parents=True, exist_ok=True)
            for i, rgb in enumerate(frames):
                ok, buf = cv2.imencode(
                    ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
                )
                if ok:
                    (folder / f"{clip.stem}-{i:03d}.jpg").write_bytes(buf.tobytes())
                    written += 1
        if written:
            (result.fakes if source.label == 1 else result.reals).append(str(folder))
            result.frames += written
    return result
