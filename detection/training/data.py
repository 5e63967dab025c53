"""Training and validation samples: preloaded face crops, on-the-fly self-blends, one pipeline.

Every image, real or fake, passes decode -> crop -> resize -> (random degradations, drawn alike
for both classes) -> JPEG re-encode at a random quality in [60, 100], so neither the file format
nor the image quality of a source can reveal its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from detection.faces import square_box
from detection.model import IMAGENET_MEAN, IMAGENET_STD
from detection.training.augment import degrade
from detection.training.augment import jpeg as _jpeg
from detection.training.sbi import boundary_map, self_blend
from detection.training.sources import Sample

PRECROP_MARGIN = 1.6  # stored crops keep room around the 1.3 crop for jitter
PRECROP_SIZE = 168  # enough for inputs up to 136 px; larger inputs ask for precrop_size_for(size)
BOUNDARY_STRIDE = 8


def precrop_size_for(input_size: int) -> int:
    """Stored crop side that holds the 1.3-margin input crop at ``input_size`` without upscaling."""
    return max(PRECROP_SIZE, int(np.ceil(input_size * PRECROP_MARGIN / 1.3)))


@dataclass
class FaceCrop:
    image: np.ndarray  # RGB uint8, PRECROP_SIZE square, face centred
    landmarks: np.ndarray  # (5, 2) in crop pixels
    sample: Sample


def load_crop(sample: Sample, precrop_size: int = PRECROP_SIZE) -> FaceCrop | None:
    bgr = cv2.imread(sample.path, cv2.IMREAD_COLOR)
    if bgr is None or sample.box is None or sample.landmarks is None:
        return None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    x1, y1, x2, y2 = square_box(sample.box, PRECROP_MARGIN)
    side = x2 - x1
    scale = precrop_size / side
    m = np.array([[scale, 0, -x1 * scale], [0, scale, -y1 * scale]], np.float32)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(rgb, m, (precrop_size, precrop_size), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    pts = np.asarray(sample.landmarks, np.float64)
    pts = pts * scale + m[:, 2]
    return FaceCrop(crop, pts.astype(np.float32), sample)


def _final_crop(img: np.ndarray, size: int, rng: np.random.Generator | None, interp: int) -> np.ndarray:
    """Take the 1.3-margin square from a pre-crop (optionally jittered) and resize it to ``size``."""
    n = img.shape[0]
    side = n * 1.3 / PRECROP_MARGIN
    cx = cy = n / 2
    if rng is not None:
        side *= rng.uniform(0.94, 1.06)
        cx += rng.uniform(-0.03, 0.03) * side
        cy += rng.uniform(-0.03, 0.03) * side
    scale = size / side
    m = np.array([[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]], np.float32)
    return cv2.warpAffine(img, m, (size, size), flags=interp, borderMode=cv2.BORDER_REPLICATE)


@dataclass
class Item:
    image: np.ndarray  # RGB uint8 size×size
    label: int
    boundary: np.ndarray  # (size/8, size/8) float32
    has_boundary: bool  # False for fakes of unknown manipulation (GAN, labelled folders)


class ItemFactory:
    """Builds items with one jitter applied identically to image and blend mask."""

    def __init__(self, size: int, degrade_p: float = 0.0) -> None:
        self.size = size
        self.degrade_p = degrade_p  # share of training items given random degradations

    def build(
        self, crop: FaceCrop, rng: np.random.Generator, *, blend: bool, hardness: float, augment: bool
    ) -> Item:
        size = self.size
        out_map = size // BOUNDARY_STRIDE
        image, mask = crop.image, None
        if blend:
            result = self_blend(image, crop.landmarks, rng, hardness)
            image, mask = result.image, result.mask
        seed = int(rng.integers(2**31))
        image = _final_crop(image, size, np.random.default_rng(seed) if augment else None, cv2.INTER_AREA)
        label = 1 if (blend or crop.sample.label == 1) else 0
        boundary = np.zeros((out_map, out_map), np.float32)
        has_boundary = crop.sample.label == 0  # reals: no boundary anywhere; SBI: its map
        if mask is not None:
            mcrop = _final_crop(
                mask, size, np.random.default_rng(seed) if augment else None, cv2.INTER_LINEAR
            )
            boundary = boundary_map(mcrop, out_map)
        if augment and rng.random() < 0.5:
            image = image[:, ::-1]
            boundary = boundary[:, ::-1]
        if augment and self.degrade_p > 0:
            image = degrade(np.ascontiguousarray(image), rng, self.degrade_p)
        image = _jpeg(np.ascontiguousarray(image), int(rng.integers(60, 101)))
        return Item(image, label, np.ascontiguousarray(boundary), has_boundary)


def to_tensors(
    items: Sequence[Item],
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> dict[str, torch.Tensor]:
    """Stack items, normalised with the model's own ``mean``/``std`` (its card's)."""
    images = np.stack([it.image for it in items]).astype(np.float32) / 255.0
    images = (images - np.array(mean, np.float32)) / np.array(std, np.float32)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    return {
        "x": x,
        "y": torch.tensor([it.label for it in items], dtype=torch.float32),
        "boundary": torch.from_numpy(np.stack([it.boundary for it in items]))[:, None],
        "has_boundary": torch.tensor([it.has_boundary for it in items], dtype=torch.bool),
    }
