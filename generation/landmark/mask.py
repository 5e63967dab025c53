"""The blend mask of the seamless pipeline, drawn from landmarks along the face's own contour.

The mask follows the jawline and the forehead arc of the dense mesh (not its convex hull), is
pulled inside them by ``ERODE`` and rises from 0 to 1 over ``FEATHER`` *inwards*, so it is exactly
zero on and outside the contour: nothing of the warped source reaches the target's jaw edge,
background or hair. Where the hairline dips into the forehead, the occlusion mask
(``occlusion.py``) cuts it further.

Everything here is computed on a small work grid (``Grid``) where the face is ``WORK_FACE_PX``
across and resized up at the end: a smooth mask loses nothing there, and at 1080p it is ~15×
cheaper than full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generation.landmark.warp import Region

WORK_FACE_PX = 128  # nose bridge → chin on the work grid
ERODE = 0.03  # of the face's scale (nose bridge → chin): pull the edge inside the contour
FEATHER = 0.12  # of the face's scale: width of the inward 0 → 1 ramp
# Feature zones: where non-skin colour is the face itself (eyes, brows, nostrils, lips), not an
# occluder. Sizes are dilations in units of the face's scale.
# dlib's brow points run along the brow's upper half: the zone is a thick line a little below them.
EYE_MARGIN, BROW_WIDTH, BROW_DROP, NOSE_MARGIN, MOUTH_MARGIN = 0.05, 0.15, 0.02, 0.04, 0.05
EYES = (np.arange(36, 42), np.arange(42, 48))
BROWS = (np.arange(17, 22), np.arange(22, 27))
NOSTRILS = np.arange(30, 36)
MOUTH = np.arange(48, 60)


@dataclass(frozen=True)
class Grid:
    """The work grid over ``region``: image pixel → ``scale`` work pixels."""

    region: Region
    scale: float
    face_scale: float  # nose bridge → chin, on the work grid

    @classmethod
    def around(cls, region: Region, face_scale: float) -> Grid:
        scale = min(1.0, WORK_FACE_PX / max(face_scale, 1.0))
        return cls(region, scale, face_scale * scale)

    @property
    def shape(self) -> tuple[int, int]:
        h, w = self.region.shape
        return max(1, round(h * self.scale)), max(1, round(w * self.scale))

    def px(self, fraction: float) -> int:
        """``fraction`` of the face's scale, in work pixels (at least 1)."""
        return max(1, int(round(fraction * self.face_scale)))

    def local(self, points: np.ndarray) -> np.ndarray:
        offset = np.array([self.region.x0, self.region.y0], dtype=np.float32)
        return (np.asarray(points, dtype=np.float32) - offset) * self.scale

    def down(self, image: np.ndarray) -> np.ndarray:
        h, w = self.shape
        if self.scale == 1.0:
            return image
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)

    def up(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        h, w = self.region.shape
        if image.shape[:2] == (h, w):
            return image
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)


def contour(dense_points: np.ndarray) -> np.ndarray:
    """The face's outline (image pixels): the jaw 0 → 16, then the mesh's forehead arc right → left."""
    return np.concatenate([dense_points[:17], dense_points[68:78][::-1]], axis=0)


def _fill(grid: Grid, polygon: np.ndarray) -> np.ndarray:
    out = np.zeros(grid.shape, dtype=np.uint8)
    cv2.fillPoly(out, [np.round(grid.local(polygon) * 16).astype(np.int32)], 255, cv2.LINE_8, 4)
    return out


def face_region(grid: Grid, *dense_meshes: np.ndarray) -> np.ndarray:
    """Inside every given face's contour (uint8 0/255 on the grid): the target's and the warped
    source's, so the mask also stays inside the target's jaw when the jaw moves to the source's."""
    out = _fill(grid, contour(dense_meshes[0]))
    for more in dense_meshes[1:]:
        out = cv2.bitwise_and(out, _fill(grid, contour(more)))
    return out


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def feature_zones(grid: Grid, *landmark_sets: np.ndarray) -> np.ndarray:
    """Eyes, brows, nostrils and lips with a margin (uint8 0/255), for every set of 68 points."""
    out = np.zeros(grid.shape, dtype=np.uint8)
    for points in landmark_sets:
        local = np.round(grid.local(points) * 16).astype(np.int32)
        hulls = np.zeros_like(out)
        for part, margin in ((EYES[0], EYE_MARGIN), (EYES[1], EYE_MARGIN), (NOSTRILS, NOSE_MARGIN)):
            zone = np.zeros_like(out)
            cv2.fillConvexPoly(zone, cv2.convexHull(local[part]), 255, cv2.LINE_8, 4)
            hulls |= cv2.dilate(zone, _disk(grid.px(margin)))
        mouth = np.zeros_like(out)
        cv2.fillConvexPoly(mouth, cv2.convexHull(local[MOUTH]), 255, cv2.LINE_8, 4)
        hulls |= cv2.dilate(mouth, _disk(grid.px(MOUTH_MARGIN)))
        drop = np.array([0, round(BROW_DROP * grid.face_scale * 16)], dtype=np.int32)
        for brow in BROWS:
            cv2.polylines(hulls, [local[brow] + drop], False, 255, grid.px(BROW_WIDTH), cv2.LINE_8, 4)
        out |= hulls
    return out


def eye_zones(grid: Grid, *landmark_sets: np.ndarray) -> np.ndarray:
    """The eyes with their margin (uint8 0/255), for every set of 68 points."""
    out = np.zeros(grid.shape, dtype=np.uint8)
    for points in landmark_sets:
        local = np.round(grid.local(points) * 16).astype(np.int32)
        for eye in EYES:
            zone = np.zeros_like(out)
            cv2.fillConvexPoly(zone, cv2.convexHull(local[eye]), 255, cv2.LINE_8, 4)
            out |= cv2.dilate(zone, _disk(grid.px(EYE_MARGIN)))
    return out


def feathered(region: np.ndarray, grid: Grid) -> np.ndarray:
    """``region`` (uint8 0/255) eroded by ``ERODE`` and ramped 0 → 1 inwards over ``FEATHER``
    (float32): 0 everywhere outside the eroded region, 1 deeper than the ramp.

    The ramp is the distance to the region's edge through ``smoothstep``, so the transition has no
    kink at either end (a kink at the edge reads as a line)."""
    inside = cv2.erode(region, _disk(grid.px(ERODE)))
    dist = cv2.distanceTransform((inside > 0).astype(np.uint8), cv2.DIST_L2, 5)
    t = np.clip(dist / max(FEATHER * grid.face_scale, 1.0), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def feather_px(face_scale: float) -> float:
    """The ramp's width in image pixels, for a face of ``face_scale`` (nose bridge → chin)."""
    return FEATHER * face_scale
