"""Image filters shared by the seamless pipeline's masks and relighting."""

from __future__ import annotations

import cv2
import numpy as np


def masked_blur(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``values`` over the pixels where ``weights`` > 0 only (normalised
    convolution); far from any weighted pixel it falls back to their mean."""
    w = weights.astype(np.float32)
    total = float(w.sum())
    if total <= 0:
        return np.broadcast_to(values.mean(axis=(0, 1)), values.shape).astype(np.float32)
    wv = values * (w[..., None] if values.ndim == 3 else w)
    mean = wv.sum(axis=(0, 1)) / total
    num = cv2.GaussianBlur(wv, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    if values.ndim == 3:
        den = den[..., None]
    eps = 1e-3
    return ((num + eps * mean) / (den + eps)).astype(np.float32)
