"""Pasting a swapped crop back into the full frame.

The blend weight is built in crop space, then warped back with the crop's inverse transform:

* a soft face mask: an ellipse placed from the face's own landmarks (eyes, mouth) covering
  forehead to chin and cheek to cheek, shrunk a little and Gaussian-blurred so that the swap
  fades out inside the face rather than at its edge;
* times a feathered border: a linear ramp to zero over the outer 8 % of the crop, so no crop
  edge can show even when the ellipse reaches it (SimSwap's own script erodes and blurs a
  warped white square instead; with no parsing model it blends the whole square).

Only the frame's region under the crop is touched, so large frames cost little.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.simswap.alignment import transform_points

BORDER_FRACTION = 0.08


def face_mask(crop_landmarks: np.ndarray, size: int) -> np.ndarray:
    """Soft face mask × feathered border, float32 (size, size) in [0, 1]."""
    points = np.asarray(crop_landmarks, dtype=np.float64).reshape(5, 2)
    eyes, mouth = points[:2].mean(0), points[3:].mean(0)
    eye_distance = float(np.linalg.norm(points[1] - points[0]))
    eye_to_mouth = float(np.linalg.norm(mouth - eyes))
    # Forehead about 0.9 eye-mouth distances above the eyes, chin about 0.75 below the mouth.
    axis = (mouth - eyes) / max(eye_to_mouth, 1e-6)
    centre = eyes + axis * (0.425 * eye_to_mouth)
    half_height = 1.325 * eye_to_mouth
    half_width = 1.05 * eye_distance
    angle = float(np.degrees(np.arctan2(-axis[0], axis[1])))  # of the width axis, ⟂ eyes→mouth
    ellipse = np.zeros((size, size), np.float32)
    shrink = 0.9  # the blur below spreads outwards; keep its fade inside the face
    cv2.ellipse(
        ellipse,
        (int(round(centre[0])), int(round(centre[1]))),
        (max(1, int(half_width * shrink)), max(1, int(half_height * shrink))),
        angle,
        0,
        360,
        1.0,
        thickness=-1,
        lineType=cv2.LINE_AA,
    )
    sigma = max(1.0, 0.12 * half_width)
    ellipse = cv2.GaussianBlur(ellipse, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return ellipse * _border_ramp(size)


def _border_ramp(size: int) -> np.ndarray:
    width = max(1.0, BORDER_FRACTION * size)
    distance = np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32)  # 0 on the edge
    ramp = np.clip(distance / width, 0.0, 1.0)
    return np.minimum(ramp[:, None], ramp[None, :])


def paste_back(frame: np.ndarray, crop: np.ndarray, matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``frame`` with ``crop`` (which ``matrix`` mapped frame→crop) blended in under ``mask``.

    ``frame`` and ``crop`` are uint8 RGB; returns a new uint8 frame.
    """
    height, width = frame.shape[:2]
    size = crop.shape[0]
    inverse = cv2.invertAffineTransform(matrix)
    corners = transform_points(np.array([[0, 0], [size, 0], [0, size], [size, size]], float), inverse)
    x0, y0 = np.floor(corners.min(0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    out = frame.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    # Warp straight into the region of interest: shift the inverse map by its top-left corner.
    roi_inverse = inverse.copy()
    roi_inverse[:, 2] -= (x0, y0)
    roi_size = (x1 - x0, y1 - y0)
    face = cv2.warpAffine(
        crop, roi_inverse, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    weight = cv2.warpAffine(mask, roi_inverse, roi_size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    weight = weight[..., None]
    region = out[y0:y1, x0:x1].astype(np.float32)
    blended = region + weight * (face.astype(np.float32) - region)
    out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out
