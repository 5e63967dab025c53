"""Fixtures for the detection engine tests: one model per session, real photos, a real video."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detection.engine import Detector
from tests.detection.fakeme_media import encode, make_random_weights, moving_face_frame, write_video

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BUNDLED_WEIGHTS = REPO_ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"


@pytest.fixture(scope="session", autouse=True)
def _single_torch_thread() -> None:
    # The test machine's cores are shared (e.g. with a training run); one thread keeps timings sane.
    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ONNX graphs exported by these tests (random weights differ per run) stay out of ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("onnx-cache")
        patch.setenv("FAKEME_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(scope="session")
def weights_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled detector when it is there, else a randomly initialised one (same architecture)."""
    if BUNDLED_WEIGHTS.is_file() and BUNDLED_WEIGHTS.with_suffix(".json").is_file():
        return BUNDLED_WEIGHTS
    return make_random_weights(tmp_path_factory.mktemp("weights") / "random.safetensors")


@pytest.fixture(scope="session")
def detector(weights_path: Path) -> Detector:
    return Detector([weights_path], threads=1)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut: np.ndarray) -> bytes:
    return encode(astronaut, "JPEG", quality=92)


@pytest.fixture(scope="session")
def face_box(detector: Detector, astronaut: np.ndarray) -> tuple[float, float, float, float]:
    faces = detector.face_detector.detect(astronaut)
    assert len(faces) == 1
    return faces[0].box


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data set not present at {SHARED_DATA} (expected beside the repository)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def face_sprite(astronaut: np.ndarray, face_box: tuple[float, float, float, float]) -> np.ndarray:
    """The astronaut's head with some margin, 120 px square."""
    x1, y1, x2, y2 = face_box
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.6
    crop = astronaut[int(cy - side / 2) : int(cy + side / 2), int(cx - side / 2) : int(cx + side / 2)]
    return cv2.resize(crop, (120, 120), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory, face_sprite: np.ndarray) -> Path:
    """3 s at 10 fps (30 frames), 320×240, a face moving across the frame."""
    path = tmp_path_factory.mktemp("video") / "moving-face.mp4"
    return write_video(path, lambda i: moving_face_frame(face_sprite, i, 30), 30, fps=10.0)
