"""How strong the luminance change may be: a PSNR budget, tightened by predicted SSIM.

The PSNR budget alone lets a flat image (studio background, smooth skin) lose more than 0.02
of SSIM, because SSIM compares each 7 × 7 window's variance and a flat window has almost none
of its own. SSIM (Wang et al. 2004; scikit-image's default 7 × 7 uniform window, C1 = (0.01·255)²,
C2 = (0.03·255)²) of ``x`` against ``x + g·d`` is a closed form in the gain ``g`` once the window
means, variances and the covariance of ``x`` and ``d`` are known, so the gain that meets the
SSIM target is found by bisection without re-rendering the image.
"""

from __future__ import annotations

import cv2
import numpy as np

from watermark.layout import MIN_STRENGTH, SSIM_TARGET, TARGET_PSNR_DB

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
_WINDOW = 7
_SAMPLE = _WINDOW * _WINDOW / (_WINDOW * _WINDOW - 1)  # scikit-image's sample covariance


def target_rms() -> float:
    # PSNR = 10 log10(255² / MSE); rounding to uint8 adds about 1/12 to the MSE.
    return float(np.sqrt(max(255.0**2 / 10 ** (TARGET_PSNR_DB / 10) - 1 / 12, 0.1)))


def _patches(shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    """Where to predict SSIM: the whole image, or five 256-px patches of a large one (centre and
    the quadrants' centres), which estimate the mean well at a fraction of the cost."""
    h, w = shape
    side = 256
    if h * w <= 5 * side * side or min(h, w) < 2 * side:
        return [(slice(None), slice(None))]
    centres = [
        (h // 2, w // 2),
        (h // 4, w // 4),
        (h // 4, 3 * w // 4),
        (3 * h // 4, w // 4),
        (3 * h // 4, 3 * w // 4),
    ]
    return [
        (slice(cy - side // 2, cy + side // 2), slice(cx - side // 2, cx + side // 2)) for cy, cx in centres
    ]


def _window_stats(y: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-window means of y and delta, variances, covariance; every other window of each patch."""
    k = (_WINDOW, _WINDOW)
    parts: list[list[np.ndarray]] = [[], [], [], [], []]
    for rows, cols in _patches(y.shape):
        py, pd = y[rows, cols], delta[rows, cols]
        mx, md = cv2.blur(py, k), cv2.blur(pd, k)
        sx = (cv2.blur(py * py, k) - mx * mx) * _SAMPLE
        sd = (cv2.blur(pd * pd, k) - md * md) * _SAMPLE
        cxd = (cv2.blur(py * pd, k) - mx * md) * _SAMPLE
        for store, a in zip(parts, (mx, md, sx, sd, cxd), strict=True):
            store.append(a[3:-3:2, 3:-3:2].ravel())  # windows inside the patch only
    return tuple(np.concatenate(p) for p in parts)


def ssim_gain(y: np.ndarray, delta: np.ndarray, target: float = SSIM_TARGET) -> float:
    """Largest gain in [MIN_STRENGTH, 1] whose predicted luminance SSIM is at least ``target``."""
    mx, md, sx, sd, cxd = _window_stats(y, delta)

    def ssim(g: float) -> float:
        cs = (2 * (sx + g * cxd) + _C2) / (2 * sx + 2 * g * cxd + g * g * sd + _C2)
        my = mx + g * md
        lum = (2 * mx * my + _C1) / (mx * mx + my * my + _C1)
        return float(np.mean(cs * lum))

    if ssim(1.0) >= target:
        return 1.0
    lo, hi = MIN_STRENGTH, 1.0
    if ssim(lo) < target:
        return lo
    for _ in range(8):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ssim(mid) >= target else (lo, mid)
    return lo
