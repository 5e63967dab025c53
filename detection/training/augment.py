"""Degradations drawn alike for reals and fakes, so image quality cannot stand in for the label.

Detector 1.3.0 read smooth, clean, well-lit faces as real and rough ones as fake: it had learned
image quality. Each function here changes what a camera, a beauty app or a re-upload changes,
keeps the image's size, and never depends on the label; ``degrade`` applies a random few of them.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Image = np.ndarray  # RGB uint8, H×W×3
Rng = np.random.Generator


def _u8(x: np.ndarray) -> Image:
    return np.clip(x, 0, 255).astype(np.uint8)


def skin_smoothing(img: Image, rng: Rng) -> Image:
    """A phone or photo-app beauty filter: edge-preserving smoothing blended over the original."""
    side = img.shape[0]
    d = int(rng.integers(5, 10))
    sigma = float(rng.uniform(20, 75))
    smooth = cv2.bilateralFilter(img, d, sigma, sigma * side / 200)
    alpha = float(rng.uniform(0.5, 1.0))
    return _u8(alpha * smooth.astype(np.float32) + (1 - alpha) * img.astype(np.float32))


def resample(img: Image, rng: Rng) -> Image:
    """Down then up again (a thumbnail blown up, a screenshot of a smaller picture)."""
    h, w = img.shape[:2]
    f = float(rng.uniform(0.3, 0.8))
    if rng.random() < 0.5:
        down_i, up_i = cv2.INTER_AREA, cv2.INTER_LINEAR
    else:
        down_i, up_i = cv2.INTER_LINEAR, cv2.INTER_CUBIC
    small = cv2.resize(img, (max(8, int(w * f)), max(8, int(h * f))), interpolation=down_i)
    return cv2.resize(small, (w, h), interpolation=up_i)


def jpeg(img: Image, quality: int) -> Image:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def double_jpeg(img: Image, rng: Rng) -> Image:
    """Saved twice at different qualities (an upload re-encoded by a platform)."""
    first = jpeg(img, int(rng.integers(30, 90)))
    return jpeg(first, int(rng.integers(50, 96)))


def blur(img: Image, rng: Rng) -> Image:
    sigma = float(rng.uniform(0.6, 2.2))
    return cv2.GaussianBlur(img, (0, 0), sigma)


def sensor_noise(img: Image, rng: Rng) -> Image:
    """Shot-like noise that grows with brightness, plus a little read noise, in every channel."""
    x = img.astype(np.float32)
    sigma = float(rng.uniform(2, 10))
    noise = rng.standard_normal(x.shape).astype(np.float32) * (sigma * np.sqrt(x / 255.0 + 0.05))
    if rng.random() < 0.5:  # luminance-only noise, as many phone pipelines leave it
        noise = np.repeat(noise[..., :1], 3, axis=2)
    return _u8(x + noise)


def sharpen(img: Image, rng: Rng) -> Image:
    """Unsharp masking, the camera app's 'detail' slider."""
    amount = float(rng.uniform(0.5, 1.8))
    soft = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.8, 2.0)))
    return _u8(img.astype(np.float32) * (1 + amount) - soft.astype(np.float32) * amount)


def colour_cast(img: Image, rng: Rng) -> Image:
    """White balance, exposure and gamma off a little, as from another camera or filter."""
    gains = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    gamma = float(rng.uniform(0.7, 1.4))
    x = (img.astype(np.float32) / 255.0) ** gamma * 255.0
    shifted = _u8(x * gains + float(rng.uniform(-20, 20)))
    if np.array_equal(shifted, img):  # a flat black or white image: still move it
        shifted = _u8(img.astype(np.float32) * 0.9 + 12)
    return shifted


def grayscale(img: Image, rng: Rng) -> Image:
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    out = np.repeat(gray[..., None], 3, axis=2)
    if rng.random() < 0.3:  # sepia-like old photo tint
        out = _u8(out.astype(np.float32) * np.array([1.07, 0.98, 0.82], np.float32))
    return out


def screenshot(img: Image, rng: Rng) -> Image:
    """Re-photographed or screen-captured: nearest-neighbour rescale and a slight contrast loss."""
    h, w = img.shape[:2]
    f = float(rng.uniform(0.45, 0.85))
    small = cv2.resize(img, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_NEAREST)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return _u8(big.astype(np.float32) * 0.9 + 12.0)


DEGRADATIONS: dict[str, Callable[[Image, Rng], Image]] = {
    "skin_smoothing": skin_smoothing,
    "resample": resample,
    "double_jpeg": double_jpeg,
    "blur": blur,
    "sensor_noise": sensor_noise,
    "sharpen": sharpen,
    "colour_cast": colour_cast,
    "grayscale": grayscale,
    "screenshot": screenshot,
}
# How often each is drawn relative to the others: smoothing most (the failure of 1.3.0), the
# destructive ones least.
WEIGHTS = {
    "skin_smoothing": 3.0,
    "resample": 2.0,
    "double_jpeg": 2.0,
    "blur": 1.5,
    "sensor_noise": 1.5,
    "sharpen": 1.5,
    "colour_cast": 2.0,
    "grayscale": 0.6,
    "screenshot": 0.6,
}


def degrade(img: Image, rng: Rng, probability: float = 0.8, max_ops: int = 3) -> Image:
    """With ``probability``, one to ``max_ops`` different degradations in random order."""
    if probability <= 0 or rng.random() >= probability:
        return img
    names = list(DEGRADATIONS)
    p = np.array([WEIGHTS[n] for n in names])
    k = int(rng.integers(1, max_ops + 1))
    for i in rng.choice(len(names), size=k, replace=False, p=p / p.sum()):
        img = DEGRADATIONS[names[int(i)]](img, rng)
    return np.ascontiguousarray(img)
