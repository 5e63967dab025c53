"""What covers the target's face (glasses, hands, hair, a microphone), so it stays in front of the swap.

A heuristic, not a segmentation network: a skin model of the target is fitted on its own face,
and inside the face contour a pixel is a candidate occluder when

- its chroma (CIELAB a, b) and its darkness relative to the skin around it depart from the skin
  by more than ``CHROMA_Z`` robust deviations together (hair, sunglasses, most frames, sleeves,
  gloves, microphones, a hand of another skin tone), or
- it is a thin dark line at the eye line (a morphological black-hat: spectacle frames, including
  those whose colour is close to skin).

The eyes, brows, nostrils and lips are not skin either, so candidates are opened (thin creases
and stray hairs dropped) and grouped into connected blobs on the skin *outside* those feature
zones; a blob is an occluder only when it is large (``MIN_BLOB`` of the face squared), which drops
specks, pores and highlights. An occluder then extends into a feature zone where the zone's pixels
have its colour and touch it (a hand over the mouth), and over an eye only when it covers most of
it (sunglasses): the target's own eyes and lips never start one, and a shaded eye socket does not
take the source's eye away. The same runs on the warped source, whose glasses, cap brim, hand or
collar are then left out rather than pasted in.

Limits (docs/generation.md): an occluder the colour and brightness of the target's skin (a hand of
the same skin tone, blonde hair on a pale forehead) is not found; dark hair of the skin's own hue
can pass for shadowed skin, and shadowed skin of a shifted hue for an occluder; thin metal frames
are often missed; bright neutral things (white paper, specular highlights) are ignored on purpose;
beards and moustaches count as occluders (the target's stay, the source's are left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generation.landmark.filters import masked_blur
from generation.landmark.mask import Grid

SMOOTH_PX = 1.0  # work-grid pixels
CHROMA_Z = 4.0  # robust deviations of a, b from the skin's median
MIN_CHROMA_SIGMA = 2.5  # 8-bit Lab units: a flat synthetic skin would make every pixel an outlier
DARK_RATIO = 0.55  # of the skin's median luminance: too dark to be the reference skin
LUMA_SCALE = 0.22  # log luminance ratio counted as one robust deviation (darker only)
SHADOW_Z = 1.5  # chroma this close to the skin's, merely dark: skin in shadow ...
VERY_DARK = 0.22  # ... unless darker than this share of the skin around it
LOCAL_SIGMA = 0.15  # of the face's scale: the "local" skin luminance
BLACKHAT_SIZE = 0.07  # of the face's scale: lines thinner than this are "thin"
BLACKHAT_MIN = 14.0  # 8-bit L: how much darker than its surroundings a thin line must be
SOLID = 0.02  # of the face's scale: radius of the opening that keeps only solid candidates
MIN_BLOB = 0.05**2  # of the face's scale squared
EXTEND_DELTA = 20.0  # 8-bit Lab distance within which a feature-zone pixel has an occluder's colour
EYE_COVER = 0.6  # share of an eye zone an occluder must cover to be taken over the eye
GROW = 0.015  # of the face's scale: the occluder's edge (anti-aliased rim) goes with it
SOFTEN = 0.01  # of the face's scale: Gaussian sigma of the occluder mask's edge


@dataclass(frozen=True)
class SkinModel:
    a: float
    b: float
    sigma_a: float
    sigma_b: float

    @classmethod
    def fit(cls, lab: np.ndarray, where: np.ndarray) -> SkinModel | None:
        pixels = lab[where > 0]
        if len(pixels) < 32:
            return None
        med = np.median(pixels[:, 1:], axis=0)
        mad = 1.4826 * np.median(np.abs(pixels[:, 1:] - med), axis=0)
        sig = np.maximum(mad, MIN_CHROMA_SIGMA)
        return cls(float(med[0]), float(med[1]), float(sig[0]), float(sig[1]))

    def chroma_z(self, lab: np.ndarray) -> np.ndarray:
        da = (lab[..., 1] - self.a) / self.sigma_a
        db = (lab[..., 2] - self.b) / self.sigma_b
        return np.sqrt(da * da + db * db)


def _non_skin(lab: np.ndarray, face: np.ndarray, zones: np.ndarray, grid: Grid) -> tuple[np.ndarray, ...]:
    """(candidate non-skin pixels, skin pixels, local skin luminance) inside ``face``.

    A pixel's distance from skin combines its chroma deviation with its luminance ratio to the
    skin around it (in log units of ``LUMA_SCALE``): a hand a shade darker and a little redder
    than the face is caught although neither alone would be. Dark pixels are left out of the
    "skin around it" first, or a dark fringe would set its own reference."""
    # Decided on a lightly smoothed copy: pixel noise would otherwise speckle a borderline
    # occluder, and the opening below would then remove it.
    lab = cv2.GaussianBlur(lab, (0, 0), SMOOTH_PX)
    core = (face > 0) & (zones == 0)
    model = SkinModel.fit(lab, core.astype(np.uint8))
    if model is None:
        empty = np.zeros(face.shape, dtype=bool)
        return empty, core, lab[..., 0]
    z = model.chroma_z(lab)
    light = lab[..., 0]
    skin = core & (z <= CHROMA_Z)
    if skin.any():
        skin &= light >= DARK_RATIO * float(np.median(light[skin]))
    local = masked_blur(light, skin, LOCAL_SIGMA * grid.face_scale)
    luma = np.log((light + 1.0) / (local + 1.0)) / LUMA_SCALE
    bright_neutral = (luma > 0) & (z < 2.5 * CHROMA_Z)
    distance = np.sqrt(z * z + np.where(luma < 0, luma * luma, 0.0))
    # Skin in a cast shadow keeps the skin's chroma: dark alone, it is shadow unless near black.
    shadow = (z < SHADOW_Z) & (light > VERY_DARK * local)
    candidate = (face > 0) & (distance > CHROMA_Z) & ~bright_neutral & ~shadow
    return candidate, skin & ~candidate, local


def skin_pixels(rgb_work: np.ndarray, face: np.ndarray, zones: np.ndarray, grid: Grid) -> np.ndarray:
    """Pixels of ``face`` that look like its skin (bool): what the relighting measures on."""
    lab = cv2.cvtColor(rgb_work, cv2.COLOR_RGB2LAB).astype(np.float32)
    return _non_skin(lab, face, zones, grid)[1]


def _eye_band(points: np.ndarray, shape: tuple[int, int], grid: Grid) -> np.ndarray:
    """The horizontal band from above the brows to the nose's middle, where spectacles sit."""
    band = np.zeros(shape, dtype=bool)
    top = int(max(0, np.floor(points[17:27, 1].min() - 0.05 * grid.face_scale)))
    bottom = int(min(shape[0], np.ceil(points[29, 1] + 0.05 * grid.face_scale)))
    band[top:bottom] = True
    return band


def occluders(
    rgb_work: np.ndarray,
    face: np.ndarray,
    zones: np.ndarray,
    points_work: np.ndarray,
    grid: Grid,
    into_zones: bool = True,
    eyes: np.ndarray | None = None,
) -> np.ndarray:
    """Where something covers the face in ``rgb_work``: float32 in [0, 1] on the grid (1 = covered).

    Run on the target (what must stay in front) and on the warped source (its glasses, collar,
    hair or hand must not be pasted in). With ``eyes`` (the eye zones), an eye is entered only when
    an occluder covers most of it; ``into_zones=False`` keeps every feature zone out."""
    lab = cv2.cvtColor(rgb_work, cv2.COLOR_RGB2LAB).astype(np.float32)
    candidate, _, local = _non_skin(lab, face, zones, grid)
    # Occluders are solid: an opening drops thin dark lines (smile lines, creases, stray hairs).
    # Spectacle frames are thin too; they come from the black-hat below, at the eye line only.
    r = grid.px(SOLID)
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, _disk(r)) > 0
    size = max(3, 2 * grid.px(BLACKHAT_SIZE / 2) + 1)
    light = lab[..., 0]
    blackhat = cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, _disk(size // 2))
    thin = (blackhat > np.maximum(BLACKHAT_MIN, 0.2 * local)) & _eye_band(points_work, face.shape, grid)
    candidate |= thin & (face > 0)

    outside = (candidate & (zones == 0)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(outside, connectivity=8)
    min_area = MIN_BLOB * grid.face_scale**2
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    if not keep:
        return np.zeros(face.shape, dtype=np.float32)
    seeds = np.isin(labels, keep)
    if not into_zones:
        return _soft(seeds.astype(np.uint8) * 255, grid)

    # Into the feature zones: non-skin pixels with some occluder's colour, connected to it.
    in_zones = candidate & (zones > 0)
    similar = np.zeros(face.shape, dtype=bool)
    for i in keep:
        colour = lab[labels == i].mean(axis=0)
        similar |= np.linalg.norm(lab - colour, axis=2) < EXTEND_DELTA
    reach = in_zones & similar
    if eyes is not None:
        # An eye is covered only when most of it has the occluder's colour (sunglasses, a hand):
        # a shaded eye socket touching its lashes must not take the source's eye away.
        count, eye_labels = cv2.connectedComponents((eyes > 0).astype(np.uint8), connectivity=8)
        for i in range(1, count):
            eye = eye_labels == i
            if reach[eye].mean() < EYE_COVER:
                reach &= ~eye
    grown = (seeds | reach).astype(np.uint8)
    count, labels = cv2.connectedComponents(grown, connectivity=8)
    touching = np.unique(labels[seeds])
    return _soft(np.isin(labels, touching[touching > 0]).astype(np.uint8) * 255, grid)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _soft(occluded: np.ndarray, grid: Grid) -> np.ndarray:
    """The occluder grown by its rim and given a soft outer edge (1 on the occluder itself)."""
    occluded = cv2.dilate(occluded, _disk(grid.px(GROW)))
    soft = cv2.GaussianBlur(occluded.astype(np.float32) / 255.0, (0, 0), max(0.5, SOFTEN * grid.face_scale))
    return np.maximum(soft, occluded.astype(np.float32) / 255.0)
