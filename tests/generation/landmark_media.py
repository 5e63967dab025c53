"""Media helpers for the landmark-engine tests: shared photos and a synthetic moving clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

KEY = b"landmark-swap-test-key-5e0b71"


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def ffhq(shared_data: Path, number: int) -> np.ndarray:
    return read_rgb(shared_data / "faces-real" / "ffhq-512" / f"{number}.jpg")


def utkface(shared_data: Path, count: int, start: int = 0) -> list[np.ndarray]:
    files = sorted((shared_data / "faces-real" / "utkface").glob("*.jpg"))
    return [read_rgb(p) for p in files[start : start + count * 97 : 97]]  # spread: different people


def trajectory(frames: int, fps: float) -> np.ndarray:
    """A smooth head motion in pixels (dx, dy) per frame: a slow drift and sway."""
    t = np.arange(frames) / fps
    return np.stack([24.0 * np.sin(2 * np.pi * t / 2.5), 10.0 * np.sin(2 * np.pi * t / 3.5)], axis=1)


def moving_clip(face: np.ndarray, frames: int, fps: float, noise: float, seed: int = 0) -> list[np.ndarray]:
    """``face`` shifted along ``trajectory`` (sub-pixel), with fresh sensor noise every frame:
    the landmark detector sees a smoothly moving face but answers with frame-to-frame jitter."""
    rng = np.random.default_rng(seed)
    h, w = face.shape[:2]
    out = []
    for dx, dy in trajectory(frames, fps):
        moved = cv2.warpAffine(
            face,
            np.float32([[1, 0, dx], [0, 1, dy]]),
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        noisy = moved.astype(np.float32) + rng.normal(0.0, noise, moved.shape)
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return out


def write_mp4v(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def read_video(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames
