"""The scan API benchmark's inputs: the photo every scan sends (the detection benchmark's 1080p one-face
photo when built, else a 1024 px astronaut) and the detector's weights (random init when absent)."""

from __future__ import annotations

import os
from pathlib import Path

from bench.common import CACHE, ROOT

DEFAULT_WEIGHTS = ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"


def bench_image() -> tuple[bytes, str]:
    """The detection benchmark's 1080p one-face photo when it has been built, else a 1024 px astronaut."""
    photo = CACHE / "photo-one-face.jpg"
    if photo.is_file():
        return photo.read_bytes(), f"{photo.relative_to(ROOT)} (bench/detect.py's 1080p photo, one face)"
    import cv2
    from PIL import Image
    from skimage import data

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "scan-api-astronaut-1024.jpg"
    if not path.is_file():
        rgb = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
        Image.fromarray(rgb).save(path, "JPEG", quality=90)
    return path.read_bytes(), f"{path.relative_to(ROOT)} (scikit-image astronaut at 1024 px, one face)"


def bench_weights(tmp: Path) -> tuple[Path, str]:
    configured = os.environ.get("DETECTOR_WEIGHTS", "").split(",")[0].strip()
    path = Path(configured) if configured else DEFAULT_WEIGHTS
    if path.is_file() and path.with_suffix(".json").is_file():
        return path, f"{path.name}"
    import torch

    from detection.model import FakeMENet, ModelCard, save_detector

    torch.manual_seed(0)
    random_path = save_detector(
        FakeMENet(), ModelCard(version="bench-random"), tmp / "bench-random.safetensors"
    )
    return random_path, f"random init ({DEFAULT_WEIGHTS.name} absent; the timing is the same)"
