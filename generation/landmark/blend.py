"""Blending the warped, colour-matched face into the target frame."""

from __future__ import annotations

import cv2
import numpy as np

from generation.landmark.warp import Region

ERODE = 0.04  # of the face's size: pull the mask's edge inside the hull, away from the jawline
FEATHER = 0.06  # of the face's size: Gaussian sigma of the feathered edge
MASK_FACE_PX = 160


def face_mask(hull_points: np.ndarray, region: Region, face_size: float) -> np.ndarray:
    """A soft mask (float32 in [0, 1], ``region``-sized) inside the convex hull of the mesh.

    Drawn, eroded and blurred on a grid where the face is about ``MASK_FACE_PX`` across (a
    smooth mask loses nothing there; at 1080p this is 20× cheaper), then resized up."""
    h, w = region.shape
    scale = min(1.0, MASK_FACE_PX / max(face_size, 1.0))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    mask = np.zeros((sh, sw), dtype=np.uint8)
    local = (hull_points - np.array([region.x0, region.y0], dtype=np.float32)) * scale
    cv2.fillConvexPoly(mask, np.round(cv2.convexHull(local) * 16).astype(np.int32), 255, cv2.LINE_AA, 4)
    size = face_size * scale
    erode = max(1, int(round(ERODE * size)))
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    small = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(0.5, FEATHER * size))
    if scale == 1.0:
        return small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def feather(target: np.ndarray, warped: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``alpha·warped + (1 − alpha)·target`` (uint8, the shape of ``target``)."""
    a = alpha[..., None]
    out = warped.astype(np.float32) * a + target.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def poisson(target: np.ndarray, warped: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Gradient-domain (seamless) clone of ``warped`` into ``target`` inside ``alpha > 0.5``.

    ``cv2.seamlessClone`` rejects masks that touch the image border, so both are padded."""
    binary = (alpha > 0.5).astype(np.uint8) * 255
    if binary.max() == 0:
        return target.copy()
    pad = 4
    tgt = cv2.copyMakeBorder(target, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    src = cv2.copyMakeBorder(warped, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    msk = cv2.copyMakeBorder(binary, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    x, y, w, h = cv2.boundingRect(msk)
    center = (x + w // 2, y + h // 2)
    out = cv2.seamlessClone(src, tgt, msk, center, cv2.NORMAL_CLONE)
    # Soften the clone's own edge with the feathered mask.
    return feather(target, out[pad:-pad, pad:-pad], np.clip(alpha * 1.5, 0, 1))


def pyramid_levels(feather_px: float) -> int:
    """Bands for ``multiband``: the coarsest band's pixel is about half the mask's ramp, so the
    lowest frequencies cross the seam over twice the ramp and the finest over a few pixels."""
    return int(np.clip(np.floor(np.log2(max(feather_px, 2.0) / 2.0)), 1, 6))


def multiband(target: np.ndarray, warped: np.ndarray, alpha: np.ndarray, levels: int) -> np.ndarray:
    """Laplacian-pyramid blend (Burt & Adelson, 1983) of ``warped`` into ``target`` (float32 RGB).

    Each band is blended with the mask blurred to its own scale: low frequencies (skin tone,
    shading) mix over a wide band, fine texture over a narrow one, so there is neither a visible
    colour step nor a soft, ghosted edge."""
    t = target.astype(np.float32)
    w = warped.astype(np.float32)
    a = alpha.astype(np.float32)
    gauss_t, gauss_w, gauss_a = [t], [w], [a]
    for _ in range(levels):
        gauss_t.append(cv2.pyrDown(gauss_t[-1]))
        gauss_w.append(cv2.pyrDown(gauss_w[-1]))
        gauss_a.append(cv2.pyrDown(gauss_a[-1]))
    out = gauss_a[-1][..., None] * gauss_w[-1] + (1.0 - gauss_a[-1][..., None]) * gauss_t[-1]
    for level in range(levels - 1, -1, -1):
        size = (gauss_t[level].shape[1], gauss_t[level].shape[0])
        lap_t = gauss_t[level] - cv2.pyrUp(gauss_t[level + 1], dstsize=size)
        lap_w = gauss_w[level] - cv2.pyrUp(gauss_w[level + 1], dstsize=size)
        m = gauss_a[level][..., None]
        out = cv2.pyrUp(out, dstsize=size) + m * lap_w + (1.0 - m) * lap_t
    return out
