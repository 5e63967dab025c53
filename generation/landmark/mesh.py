"""The dense face mesh: 68 landmarks + forehead points, its triangles, and the swap geometry.

dlib's 68 points stop at the eyebrows; a swap that ends there leaves the target's forehead
and brow ridge. Forehead points are extrapolated from the brows along the face's vertical
axis (chin → nose bridge), higher in the middle than at the temples, so the mesh covers the
whole face. Midpoints would add no geometry to a piecewise-affine warp (a midpoint maps to
the midpoint), so they are not added.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay

JAW = np.arange(0, 17)
BROWS = np.arange(17, 27)
INNER = np.arange(17, 68)  # brows, nose, eyes, mouth: what makes a face look like someone
# Forehead height above each brow point, in units of the nose-bridge-to-chin distance: an arc.
FOREHEAD_LIFT = np.array([0.10, 0.20, 0.27, 0.31, 0.33, 0.33, 0.31, 0.27, 0.20, 0.10])
MIN_TRIANGLE_AREA = 1e-3  # in units of the mesh's size squared


def face_scale(points: np.ndarray) -> float:
    """Distance nose bridge (27) → chin (8): a pose-robust size of the face."""
    return float(np.linalg.norm(points[27] - points[8])) + 1e-6


def dense(points: np.ndarray) -> np.ndarray:
    """The 68 landmarks followed by 10 forehead points (float32, (78, 2))."""
    points = np.asarray(points, dtype=np.float32)
    up = points[27] - points[8]
    up = up / (np.linalg.norm(up) + 1e-6)
    lift = FOREHEAD_LIFT[:, None] * face_scale(points) * up[None, :]
    return np.concatenate([points, points[BROWS] + lift.astype(np.float32)], axis=0)


def triangles(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (int32, (T, 3)) of a mesh, without slivers."""
    tri = Delaunay(points.astype(np.float64)).simplices.astype(np.int32)
    a, b, c = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    return tri[area > MIN_TRIANGLE_AREA * face_scale(points) ** 2]


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) taking ``src`` to ``dst``
    (Umeyama), as a 2×3 matrix."""
    src, dst = src.astype(np.float64), dst.astype(np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ fix @ vt
    scale = np.trace(np.diag(sig) @ fix) / max(s.var(axis=0).sum(), 1e-12)
    return np.hstack([scale * rot, (mu_d - scale * rot @ mu_s)[:, None]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def swap_geometry(source: np.ndarray, target: np.ndarray, inner: float, jaw: float) -> np.ndarray:
    """Where the source's features go in the target (68 points).

    The source's landmarks are aligned to the target's by a similarity fitted on the inner
    features (pose and size follow the target), then the inner features move ``inner`` of the
    way and the jaw ``jaw`` of the way from the target's towards the source's. Pure target
    geometry (0, 0) keeps the target's face shape, which identity models read as much as skin;
    the jaw moves less because the target's own jawline stays visible around the blend.
    """
    aligned = apply(similarity_fit(source[INNER], target[INNER]), source)
    weight = np.zeros((68, 1), dtype=np.float32)
    weight[INNER] = inner
    weight[JAW] = jaw
    return (target + weight * (aligned - target)).astype(np.float32)
