"""Grain matching: the swapped face gets the fine texture and sensor noise of the frame around it.

The blur for a swap sharper than its frame is the mirror case (a sharp source photo in a soft or
out-of-focus target), tested before the noise.

The warped source is resampled (usually enlarged) and low-pass filtered by the blend, so it is
smoother than the target's skin next to it, which reads as "pasted on". The fine detail of each
(luminance minus a 1 px Gaussian of it) is measured by its robust deviation on skin pixels, and
where the swap is the smoother one, Gaussian luminance noise makes up the difference in quadrature,
weighted by the blend mask. The noise is seeded from the frame's pixels: deterministic for one
input, different from frame to frame in a video (a fixed pattern would read as dirt on the lens).
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

DETAIL_SIGMA = 1.0  # px: "fine" detail is what a Gaussian of this sigma removes
# The detail filter (identity − Gaussian) passes this share of white noise's deviation:
# sqrt(1 − 2·g(0) + Σg²) with g(0) = 1/(2πσ²), Σg² = 1/(4πσ²).
WHITE_NOISE_PASS = float(np.sqrt(1.0 - 1.0 / (np.pi * DETAIL_SIGMA**2) + 1.0 / (4 * np.pi * DETAIL_SIGMA**2)))
SHARPER = 1.2  # detail this much above the target's counts as too sharp
BLUR_SIGMAS = (0.5, 0.8, 1.2, 1.8)  # px: tried in turn until the swap is no sharper than that
SAMPLES = 20_000
MIN_PIXELS = 64


def _grey(rgb: np.ndarray) -> np.ndarray:
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)


def detail_sigma(rgb: np.ndarray, where: np.ndarray) -> float | None:
    """Robust deviation (1.4826 · MAD) of the fine luminance detail over ``where`` (bool)."""
    sel = np.flatnonzero(where.ravel())
    if sel.size < MIN_PIXELS:
        return None
    grey = _grey(rgb.astype(np.float32))
    detail = (grey - cv2.GaussianBlur(grey, (0, 0), DETAIL_SIGMA)).ravel()
    values = detail[sel[:: max(1, sel.size // SAMPLES)]]
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def match(out: np.ndarray, target: np.ndarray, alpha: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """``out`` (float32 RGB, the blended region) given the fine detail of ``target`` (uint8, the
    same region), both measured on ``skin`` (bool): the target just outside the swap, the output
    well inside it. Smoother than the target: noise is added; sharper (a crisp source pasted into
    a soft or out-of-focus photo): it is blurred, by the least of ``BLUR_SIGMAS`` that suffices."""
    around = skin & (alpha < 0.5)
    inside = skin & (alpha > 0.9)
    want, have = detail_sigma(target, around), detail_sigma(out, inside)
    if want is None or have is None:
        return out
    a = alpha[..., None]
    if have > SHARPER * want:
        for sigma in BLUR_SIGMAS:
            soft = cv2.GaussianBlur(out, (0, 0), sigma)
            if (detail_sigma(soft, inside) or 0.0) <= SHARPER * want:
                break
        return out + a * (soft - out)
    if want <= have:
        return out
    sigma = np.sqrt(want * want - have * have) / WHITE_NOISE_PASS
    rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(target[::7, ::7]).tobytes()))
    noise = rng.standard_normal(alpha.shape, dtype=np.float32) * np.float32(sigma)
    return out + (noise * alpha)[..., None]
