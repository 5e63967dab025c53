"""The swap itself, unmarked: swap geometry → triangulated warp → mask and occluders → relight →
multi-band blend → grain (or, with ``SwapSettings(legacy=True)``, the pipeline as it was before
issue 23: convex-hull mask feathered by a blur, whole-face Lab transfer, no occlusion, relighting,
grain or pose check, so the benchmark can put both side by side in one run).

Private to the engine, its benchmark and training swaps: ``LandmarkSwapper`` marks every frame it
returns (``generation.landmark.marking``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generation.landmark import blend, colour, faces, grain, mask, mesh, occlusion, pose
from generation.landmark.inputs import SourceFace
from generation.landmark.results import Composite
from generation.landmark.warp import Region, piecewise_affine, region_around

BLENDS = ("multiband", "poisson", "feather")
LEGACY_BLENDS = ("feather", "poisson")


@dataclass(frozen=True)
class SwapSettings:
    inner_shape: float = 0.8  # how far the inner features move to the source's shape (0..1)
    jaw_shape: float = 0.0  # same for the jawline (its edge stays visible around the blend)
    colour_transfer: bool = True  # relight the source to the target (legacy: whole-face Lab transfer)
    # "multiband" (Laplacian pyramid), "poisson" (cv2.seamlessClone) or "feather" (alpha blend)
    blend: str = "multiband"
    legacy: bool = False  # the pre-issue-23 pipeline, for comparison (blend "feather" or "poisson")
    max_yaw_difference: float = pose.MAX_YAW_DIFFERENCE  # degrees; larger: pose_mismatch
    grain: bool = True  # match the frame's fine grain (noise where the swap is smoother, blur where sharper)
    detect_max_side: int = faces.DETECT_MAX_SIDE


def composite(
    s: SwapSettings, src: SourceFace, target: np.ndarray, points: np.ndarray, tri: np.ndarray | None = None
) -> Composite:
    """The unmarked swap, its destination mesh and blend mask. Private: callers get marked frames only."""
    dst68 = mesh.swap_geometry(src.points, points, s.inner_shape, s.jaw_shape)
    dst = mesh.dense(dst68)
    tri = mesh.triangles(dst) if tri is None else tri
    region = region_around(dst, target.shape)
    if region.shape[0] < 4 or region.shape[1] < 4:
        return Composite(target.copy(), dst, None, region)
    warped, covered = piecewise_affine(src.image, src.mesh, dst, tri, region, fill_slivers=not s.legacy)
    roi = target[region.slices]
    if s.legacy:
        merged, alpha = legacy_blend(s, roi, warped, covered, dst, dst68, region)
    else:
        merged, alpha = seamless_blend(s, roi, warped, covered, points, dst68, dst, region)
    out = target.copy()
    out[region.slices] = merged
    return Composite(out, dst, alpha, region)


def legacy_blend(
    s: SwapSettings,
    roi: np.ndarray,
    warped: np.ndarray,
    covered: np.ndarray,
    dst: np.ndarray,
    dst68: np.ndarray,
    region: Region,
) -> tuple[np.ndarray, np.ndarray]:
    """The pipeline before issue 23: hull mask cut by the warp's coverage, whole-face Lab."""
    alpha = blend.face_mask(dst, region, mesh.face_scale(dst68)) * (covered > 0)
    if s.colour_transfer:
        warped = colour.match_lab(warped, roi, alpha > 0.5)
    if s.blend == "poisson":
        return blend.poisson(roi, warped, alpha), alpha
    return blend.feather(roi, warped, alpha), alpha


def seamless_blend(
    s: SwapSettings,
    roi: np.ndarray,
    warped: np.ndarray,
    covered: np.ndarray,
    points: np.ndarray,
    dst68: np.ndarray,
    dst: np.ndarray,
    region: Region,
) -> tuple[np.ndarray, np.ndarray]:
    """Contour mask minus occluders, relit source, multi-band blend, matched grain."""
    scale = mesh.face_scale(dst68)
    grid = mask.Grid.around(region, scale)
    roi_w, warped_w = grid.down(roi), grid.down(warped)
    inside = mask.face_region(grid, mesh.dense(points), dst)
    inside &= np.where(grid.down(covered) >= 250, 255, 0).astype(np.uint8)  # only warped pixels
    zones = mask.feature_zones(grid, points, dst68)
    eyes = mask.eye_zones(grid, points, dst68)
    occluded = occlusion.occluders(roi_w, inside, zones, grid.local(points), grid, eyes=eyes)
    # The source's own occluders (its glasses, a cap's brim, a hand, long hair) are not pasted in.
    pasted = occlusion.occluders(warped_w, inside, zones, grid.local(dst68), grid, eyes=eyes)
    ramp = mask.feathered(inside, grid)
    alpha_w = ramp * (1.0 - occluded) * (1.0 - pasted)
    skin_t = occlusion.skin_pixels(roi_w, inside, zones, grid) & (occluded < 0.5)
    if s.colour_transfer:
        skin = skin_t & occlusion.skin_pixels(warped_w, inside, zones, grid) & (pasted < 0.5)
        band = skin & (inside > 0) & (ramp < 1.0)  # the eroded rim and the ramp: what borders the seam
        tone_from = band if band.sum() >= colour.MIN_BAND_PIXELS else skin
        where = grid.up(tone_from.astype(np.uint8), nearest=True) > 0
        toned = colour.match_lab(warped, roi, where, colour.BAND_STD_RATIO)
        # Skin takes the target's tone, near-neutral features (teeth, eyes) little of it.
        likeness = grid.up(colour.tone_weight(warped_w, skin))[..., None]
        base_w = warped.astype(np.float32)
        lit = base_w + likeness * (toned.astype(np.float32) - base_w)
        sigma = colour.RELIGHT_SIGMA * grid.face_scale
        shading = colour.shading_gain(roi_w, grid.down(lit), skin, sigma)
        lit *= grid.up(shading)[..., None]
    else:
        lit = warped.astype(np.float32)
    alpha = grid.up(alpha_w)
    keep = grid.up(occluded)[..., None]
    base = roi.astype(np.float32)
    # Outside the mask the warp is never shown, but a pyramid's coarse bands would carry it
    # across the seam: the target stands in for it there.
    lit = np.where(alpha[..., None] > 0, lit, base)
    if s.blend == "multiband":
        merged = blend.multiband(base, lit, alpha, blend.pyramid_levels(mask.feather_px(scale)))
    elif s.blend == "poisson":
        lit8 = np.clip(lit + 0.5, 0, 255).astype(np.uint8)
        merged = blend.poisson(roi, lit8, alpha).astype(np.float32)
    else:
        merged = blend.feather(roi, np.clip(lit + 0.5, 0, 255).astype(np.uint8), alpha).astype(np.float32)
    # Occluders stay the target's exactly: coarse bands blurred some of the face over them.
    merged = merged * (1.0 - keep) + base * keep
    if s.grain:
        merged = grain.match(merged, roi, alpha, grid.up(skin_t.astype(np.uint8), nearest=True) > 0)
    return np.clip(merged + 0.5, 0, 255).astype(np.uint8), alpha
