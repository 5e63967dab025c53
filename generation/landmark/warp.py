"""Piecewise-affine warp of one face mesh onto another, on the destination's bounding box only.

Instead of warping each triangle into its own patch and pasting the patches (seams, and one
``warpAffine`` per triangle), every destination pixel gets the index of its triangle from a
rasterised index image, each triangle's affine map is solved in one batched solve, and the
source is sampled once with ``cv2.remap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Region:
    """A rectangle of the destination image: ``[y0:y1, x0:x1]``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0


def region_around(points: np.ndarray, shape: tuple[int, ...], margin: int = 2) -> Region:
    h, w = shape[:2]
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin + 1
    return Region(max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))


def piecewise_affine(
    source: np.ndarray,
    src_points: np.ndarray,
    dst_points: np.ndarray,
    triangles: np.ndarray,
    region: Region,
    fill_slivers: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The source warped into ``region`` of the destination, and the coverage mask (uint8 0/255).

    ``src_points``/``dst_points`` are the same mesh in source and destination pixels;
    ``triangles`` indexes it. With ``fill_slivers``, pixels inside the mesh that fall in no
    triangle (the slivers ``mesh.triangles`` drops, e.g. between the lips of a closed mouth) take
    a neighbouring triangle's map, so the mesh's coverage has no holes.
    """
    h, w = region.shape
    offset = np.array([region.x0, region.y0], dtype=np.float32)
    dst_local = dst_points - offset
    index = np.full((h, w), -1, dtype=np.int32)
    for i, tri in enumerate(triangles):
        cv2.fillConvexPoly(index, np.round(dst_local[tri] * 16).astype(np.int32), i, cv2.LINE_8, 4)
    if fill_slivers:
        _fill_slivers(index, dst_local)
    maps = _affine_maps(src_points, dst_local, triangles)  # (T, 2, 3): local dst -> source
    inside = index >= 0
    ids = np.where(inside, index, 0)
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    m = maps[ids]  # (h, w, 2, 3)
    map_x = m[..., 0, 0] * xs + m[..., 0, 1] * ys + m[..., 0, 2]
    map_y = m[..., 1, 0] * xs + m[..., 1, 1] * ys + m[..., 1, 2]
    map_x[~inside] = -1.0
    map_y[~inside] = -1.0
    warped = cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, inside.astype(np.uint8) * 255


SLIVER_PASSES = 6  # a dropped sliver is a few pixels wide: each pass fills one more pixel ring


def _fill_slivers(index: np.ndarray, dst_local: np.ndarray) -> None:
    """Give pixels inside the mesh's hull but in no triangle the id of a neighbouring triangle."""
    hull = np.zeros(index.shape, dtype=np.uint8)
    cv2.fillConvexPoly(hull, np.round(cv2.convexHull(dst_local) * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    holes = (index < 0) & (hull > 0)
    if not holes.any():
        return
    ids = index.astype(np.float32)  # dilate (a max) works on floats; ids are exact below 2**24
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(SLIVER_PASSES):
        grown = cv2.dilate(ids, kernel)
        ids[holes] = grown[holes]
        holes &= ids < 0
        if not holes.any():
            break
    index[:] = ids.astype(np.int32)


def _affine_maps(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """For each triangle, the 2×3 affine matrix taking its destination corners to its source corners."""
    d = dst[triangles].astype(np.float64)  # (T, 3, 2)
    s = src[triangles].astype(np.float64)
    lhs = np.concatenate([d, np.ones((*d.shape[:2], 1))], axis=2)  # (T, 3, 3)
    coef = np.linalg.solve(lhs, s)  # (T, 3, 2): [x y 1] @ coef = source xy
    return np.transpose(coef, (0, 2, 1)).astype(np.float32)
