"""Fixtures for the watermark tests: keys, real photos, and the shared FFHQ faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

KEY = b"watermark-test-key-3f1c9a7e5b"
PREVIOUS_KEY = b"watermark-test-key-previous-91d2"
FFHQ_SAMPLE = 8  # FFHQ photos used by the robustness tests (512 px)


@pytest.fixture(scope="session")
def key() -> bytes:
    return KEY


@pytest.fixture(scope="session")
def previous_key() -> bytes:
    return PREVIOUS_KEY


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # 512 × 512


@pytest.fixture(scope="session")
def sample_photos(astronaut: np.ndarray) -> dict[str, np.ndarray]:
    """Real photos of several sizes and aspect ratios, bundled with scikit-image."""
    from skimage import data

    return {
        "astronaut_512x512": astronaut,
        "coffee_600x400": np.ascontiguousarray(data.coffee()),
        "chelsea_451x300": np.ascontiguousarray(data.chelsea()),
    }


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def ffhq_dir(shared_data: Path) -> Path:
    path = shared_data / "faces-real" / "ffhq-512"
    if not path.is_dir():
        pytest.skip(f"FFHQ sample absent: expected {path}")
    return path


@pytest.fixture(scope="session")
def ffhq(ffhq_dir: Path) -> list[np.ndarray]:
    """A fixed sample of FFHQ faces (512 × 512 JPEG q90), spread over the folder."""
    files = sorted(ffhq_dir.glob("*.jpg"))
    step = max(1, len(files) // FFHQ_SAMPLE)
    return [load_rgb(p) for p in files[::step][:FFHQ_SAMPLE]]
