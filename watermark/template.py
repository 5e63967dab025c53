"""Scale and rotation estimation from the template lines in the magnitude spectrum.

A crop (after the canonical resize) magnifies the image and moves it; a small rotation turns
it. The magnitude spectrum ignores the move, and the template frequencies ``k`` (cycles per
tile) of the periodic pattern appear in it as lines at ``R(θ) k / (TILE · s)`` cycles per
pixel. So one FFT of the whole plane, then a grid over (s, θ) that reads the spectrum at a
handful of points per hypothesis, estimates the geometry to a fraction of a percent; trying
every scale with the matched filter instead (resample, fold, FFT) costs about a millisecond per
hypothesis and would need a hundred of them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.fft as sfft

LINE_CAP = 8.0  # one line's normalised power counts at most this much (a photo's own peaks)
TAPER = 0.25  # Tukey window: cosine tapers over 12.5 % at each border
PAD = 1.5  # zero padding: the lines fall between FFT bins less often


def _tukey(n: int, alpha: float) -> np.ndarray:
    """Flat in the middle, cosine tapers over ``alpha / 2`` at each end (less loss than Hann)."""
    x = np.linspace(0.0, 1.0, n)
    edge = alpha / 2
    w = np.ones(n)
    lo, hi = x < edge, x > 1 - edge
    w[lo] = 0.5 * (1 - np.cos(np.pi * x[lo] / edge))
    w[hi] = 0.5 * (1 - np.cos(np.pi * (1 - x[hi]) / edge))
    return w


@lru_cache(maxsize=16)
def _geometry(h: int, w: int) -> tuple[np.ndarray, tuple[int, int], np.ndarray, np.ndarray]:
    """Per plane size: the window, the padded size, each bin's ring and 1 / bins per ring."""
    window = np.outer(_tukey(h, TAPER), _tukey(w, TAPER)).astype(np.float32)
    ph, pw = int(h * PAD) // 2 * 2, int(w * PAD) // 2 * 2
    fy = np.fft.fftfreq(ph)[:, None]
    fx = np.fft.rfftfreq(pw)[None, :]
    ring = np.rint(np.hypot(fy, fx) * max(ph, pw)).astype(np.int64).ravel()  # rings about one bin wide
    return window, (ph, pw), ring, 1.0 / np.maximum(np.bincount(ring), 1)


def whitened_spectrum(plane: np.ndarray) -> np.ndarray:
    """Power spectrum of the tapered, zero-padded plane divided by its mean at each radius."""
    window, padded, ring, inv_count = _geometry(*plane.shape)
    spec = sfft.rfft2(plane * window, s=padded)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    mean = np.bincount(ring, weights=power.ravel()) * inv_count
    return power / np.maximum(mean, 1e-20).astype(np.float32)[ring].reshape(power.shape)


def _sample(spectrum: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Bilinear read of the (even-width) half-plane spectrum at frequencies in cycles per pixel."""
    h, wr = spectrum.shape
    w = 2 * (wr - 1)
    flip = fx < 0
    fy, fx = np.where(flip, -fy, fy), np.abs(fx)
    y = (fy * h) % h
    x = np.minimum(fx * w, wr - 1.001)
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    ty, tx = y - y0, x - x0
    y1, x1 = (y0 + 1) % h, x0 + 1
    return (
        spectrum[y0, x0] * (1 - ty) * (1 - tx)
        + spectrum[y1, x0] * ty * (1 - tx)
        + spectrum[y0, x1] * (1 - ty) * tx
        + spectrum[y1, x1] * ty * tx
    )


def scores(
    spectrum: np.ndarray, template: np.ndarray, tile: int, scales: np.ndarray, angles_deg: np.ndarray
) -> np.ndarray:
    """Template score for every (angle, scale): mean capped normalised power at the lines."""
    ky, kx = template[:, 0] / tile, template[:, 1] / tile
    a = np.radians(angles_deg)[:, None, None]
    s = scales[None, :, None]
    # A line at k in the embedding frame is received at R(θ) k / s (x right, y down).
    fx = (np.cos(a) * kx - np.sin(a) * ky) / s
    fy = (np.sin(a) * kx + np.cos(a) * ky) / s
    values = _sample(spectrum, fy.ravel(), fx.ravel()).reshape(fx.shape)
    return np.minimum(values, LINE_CAP).mean(axis=2)


def estimate(
    spectrum: np.ndarray,
    template: np.ndarray,
    tile: int,
    scales: np.ndarray,
    angles_deg: np.ndarray,
    count: int,
) -> list[tuple[float, float, float]]:
    """The ``count`` best local maxima of the template score as ``(scale, angle_deg, score)``.

    ``spectrum`` comes from ``whitened_spectrum``.
    ``scales`` must be a geometric grid; each maximum's scale is placed between grid points by
    a parabola through its neighbours' scores.
    """
    score = scores(spectrum, template, tile, scales, angles_deg)
    padded = np.pad(score, 1, constant_values=-np.inf)
    is_peak = np.ones_like(score, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                is_peak &= (
                    score >= padded[1 + dy : padded.shape[0] - 1 + dy, 1 + dx : padded.shape[1] - 1 + dx]
                )
    ai, si = np.nonzero(is_peak)
    order = np.argsort(-score[ai, si])[:count]
    step = math.log(scales[1] / scales[0]) if len(scales) > 1 else 0.0
    out = []
    for i in order:
        a, j = ai[i], si[i]
        offset = 0.0
        if 0 < j < len(scales) - 1:
            left, mid, right = score[a, j - 1], score[a, j], score[a, j + 1]
            denom = left - 2 * mid + right
            if denom < 0:
                offset = float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))
        out.append((float(scales[j] * math.exp(offset * step)), float(angles_deg[a]), float(score[a, j])))
    return out


def angle_grid(limit_deg: float, step_deg: float) -> np.ndarray:
    n = int(math.floor(limit_deg / step_deg + 1e-9))
    return step_deg * np.arange(-n, n + 1)
