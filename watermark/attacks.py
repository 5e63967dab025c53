"""Image transformations the watermark must survive, shared by the tests and the benchmark."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageEnhance


def jpeg(image: np.ndarray, quality: int = 50, subsampling: int = 2) -> np.ndarray:
    """JPEG round trip; ``subsampling=2`` is 4:2:0 chroma."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, subsampling=subsampling)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC, reducing_gap=None))


def resize_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC))


def center_crop(image: np.ndarray, area: float = 0.8) -> np.ndarray:
    h, w = image.shape[:2]
    side = math.sqrt(area)
    ch, cw = round(h * side), round(w * side)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(image[top : top + ch, left : left + cw])


def brightness_contrast(image: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """Pillow's enhancers: ``brightness`` multiplies, ``contrast`` scales around the mean grey."""
    out = ImageEnhance.Brightness(Image.fromarray(image)).enhance(brightness)
    return np.asarray(ImageEnhance.Contrast(out).enhance(contrast))


def screenshot(image: np.ndarray) -> np.ndarray:
    """A screenshot-like resize: about 0.73× to odd dimensions, aspect ratio off by about 1 %."""
    h, w = image.shape[:2]
    return resize_to(image, round(w * 0.73) | 1, round(h * 0.72) | 1)


def rotate(image: np.ndarray, degrees: float = 2.0) -> np.ndarray:
    """Rotation about the centre, same size, black corners (as Pillow's ``rotate`` does)."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(0, 0, 0))


def combined(image: np.ndarray, brightness: float = 1.2, contrast: float = 0.8) -> np.ndarray:
    """All required attacks at once: brightness/contrast, 80 % crop, 0.5× downscale, JPEG 50 4:2:0."""
    out = brightness_contrast(image, brightness, contrast)
    out = center_crop(out, 0.8)
    out = rescale(out, 0.5)
    return jpeg(out, 50, 2)


# name → transformation; REQUIRED are asserted at their targets by the tests, the rest reported.
ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda im: im,
    "jpeg50_420": jpeg,
    "downscale_0.5": lambda im: rescale(im, 0.5),
    "center_crop_80": center_crop,
    "bright+20_contrast-20": lambda im: brightness_contrast(im, 1.2, 0.8),
    "bright-20_contrast+20": lambda im: brightness_contrast(im, 0.8, 1.2),
    "combined": combined,
    "combined_dark": lambda im: combined(im, 0.8, 1.2),
    "screenshot_resize": screenshot,
    "rotate_2deg": rotate,
}
REQUIRED = (
    "none",
    "jpeg50_420",
    "downscale_0.5",
    "center_crop_80",
    "bright+20_contrast-20",
    "bright-20_contrast+20",
    "combined",
    "combined_dark",
)
