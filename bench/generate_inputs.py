"""The generation benchmark's inputs: the engines under test, the watermark both embed, 1080p frames
made from FFHQ faces, the 720p clip's frames, and the pairs of different people (FFHQ photos and
UTKFace chips) for the identity table, all from ``../shared/data``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from bench.common import ROOT
from generation.landmark import LandmarkSwapper, SwapSettings

DATA = ROOT.parent / "shared" / "data"
KEY = b"bench-generate-key-52be90"
PAYLOAD = 0x00_0BE1_C4
HD, HD720 = (1920, 1080), (1280, 720)
SEED = 20261121
NEW, OLD = "built-in, seamless", "built-in, legacy"


def engines_under_test() -> dict[str, LandmarkSwapper]:
    """The built-in engine's two pipelines: the default, and the one before issue 23."""
    return {NEW: LandmarkSwapper(), OLD: LandmarkSwapper(SwapSettings(legacy=True, blend="feather"))}


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def hd_frame(face: np.ndarray) -> np.ndarray:
    """A 1920 × 1080 frame with ``face`` enlarged to full height left of centre, on a blurred,
    stretched copy of itself (a background without a second face)."""
    w, h = HD
    frame = cv2.GaussianBlur(cv2.resize(face, (w, h)), (0, 0), 25)
    frame[:, 500 : 500 + h] = cv2.resize(face, (h, h), interpolation=cv2.INTER_CUBIC)
    return frame


def video_frames(path: Path, seconds: float) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while len(frames) < round(seconds * fps):
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, HD720, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps


def ffhq_pairs(rng: np.random.Generator) -> Iterator[tuple[Path, Path]]:
    """Pairs of different FFHQ photos (different people), each photo used once before any repeats."""
    files = sorted((DATA / "faces-real" / "ffhq-512").glob("*.jpg"))
    while True:
        order = rng.permutation(len(files))
        for i in range(0, len(order) - 1, 2):
            yield files[order[i]], files[order[i + 1]]


UTK_NAME = re.compile(r"^(\d+)_(\d)_(\d)_\d+")


def utk_pairs(rng: np.random.Generator) -> Iterator[tuple[Path, Path]]:
    """Pairs of UTKFace chips that cannot be one person: gender or race differ, or ≥ 10 years apart."""
    files = []
    for path in sorted((DATA / "faces-real" / "utkface").glob("*.jpg")):
        m = UTK_NAME.match(path.name)
        if m:
            files.append((path, int(m.group(1)), m.group(2), m.group(3)))
    while True:
        a, b = (files[i] for i in rng.choice(len(files), 2, replace=False))
        if a[2] != b[2] or a[3] != b[3] or abs(a[1] - b[1]) >= 10:
            yield a[0], b[0]
