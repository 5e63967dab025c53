"""Aligning faces the way SimSwap's checkpoints expect, from 5 landmarks.

Landmark order everywhere: left eye, right eye, nose tip, left mouth corner, right mouth corner
(image left/right: MTCNN's and insightface's order).

Templates (SimSwap ``insightface_func/utils/face_align_ffhqandnewarc.py``):

* 224 model ("newarc" mode, SimSwap's ``mode='None'``): five pose templates on a 112 grid (left
  profile, left, frontal, right, right profile), scaled by 224/112; the face is mapped onto each
  by a least-squares similarity transform and the template with the smallest summed landmark
  error wins. These are SimSwap's own points, not insightface's ``arcface_dst`` with its
  ``ratio``/``diff_x`` adjustment.
* 512 model (``mode='ffhq'``): one FFHQ-style template on a 512 grid, looser (more hair and
  background around the face).

The similarity transform is Umeyama's least-squares estimate (what ``skimage``'s
``SimilarityTransform.estimate`` computes); crops are made with ``cv2.warpAffine`` (bilinear,
black outside the image), as SimSwap does.
"""

from __future__ import annotations

import cv2
import numpy as np

_POSES_112 = np.array(
    [
        [[51.642, 50.115], [57.617, 49.990], [35.740, 69.007], [51.157, 89.050], [57.025, 89.702]],
        [[45.031, 50.118], [65.568, 50.872], [39.677, 68.111], [45.177, 86.190], [64.246, 86.758]],
        [[39.730, 51.138], [72.270, 51.138], [56.000, 68.493], [42.463, 87.010], [69.537, 87.010]],
        [[46.845, 50.872], [67.382, 50.118], [72.737, 68.111], [48.167, 86.758], [67.236, 86.190]],
        [[54.796, 49.990], [60.771, 50.115], [76.673, 69.007], [55.388, 89.702], [61.257, 89.050]],
    ]
)
_FFHQ_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ]
)


def templates(size: int) -> np.ndarray:
    """The candidate templates for a ``size`` crop, shape (K, 5, 2), in crop pixels."""
    if size == 224:
        return _POSES_112 * (size / 112.0)
    if size == 512:
        return _FFHQ_512[None] * (size / 512.0)
    raise ValueError(f"no SimSwap alignment template for size {size}")


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2×3 rotation+uniform scale+translation mapping ``src`` points onto ``dst`` in least squares."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # no reflections
        d[-1] = -1.0
    rotation = u @ np.diag(d) @ vt
    variance = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / variance if variance > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return matrix


def alignment_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The image→crop matrix for ``size`` (best-fitting template when there are several)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    best, best_error = None, np.inf
    homogeneous = np.hstack([points, np.ones((5, 1))])
    for template in templates(size):
        matrix = similarity_transform(points, template)
        error = np.linalg.norm(homogeneous @ matrix.T - template, axis=1).sum()
        if error < best_error:
            best, best_error = matrix, error
    assert best is not None
    return best


def warp_to_crop(rgb: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ matrix[:, :2].T + matrix[:, 2]
