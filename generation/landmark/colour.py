"""Colour transfer: give the warped source face the target face's skin tone and lighting."""

from __future__ import annotations

import cv2
import numpy as np

from generation.landmark.filters import masked_blur

# Per-channel contrast changes beyond this factor are clipped: a face half in shadow would
# otherwise stretch the source's contrast into noise.
MAX_STD_RATIO = 2.0
STAT_SAMPLES = 20_000  # the statistics are taken on a strided subset of the face's pixels


def match_lab(
    warped: np.ndarray, target: np.ndarray, mask: np.ndarray, max_std_ratio: float = MAX_STD_RATIO
) -> np.ndarray:
    """``warped`` (RGB uint8) with its CIELAB mean and standard deviation inside ``mask``
    matched to ``target``'s in the same pixels (Reinhard et al.'s transfer, restricted to the face).

    Works on OpenCV's 8-bit Lab and applies the per-channel linear map as a lookup table:
    float Lab conversions cost ten times more on a 1080p face.
    """
    sel = np.flatnonzero(mask.ravel())
    if sel.size < 16:
        return warped
    sel = sel[:: max(1, sel.size // STAT_SAMPLES)]
    src = cv2.cvtColor(warped, cv2.COLOR_RGB2LAB)
    s = src.reshape(-1, 3)[sel].astype(np.float32)
    d = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).reshape(-1, 3)[sel].astype(np.float32)
    mu_s, mu_d = s.mean(axis=0), d.mean(axis=0)
    ratio = np.clip(d.std(axis=0) / np.maximum(s.std(axis=0), 1e-3), 1 / max_std_ratio, max_std_ratio)
    levels = np.arange(256, dtype=np.float32)[:, None]
    lut = np.clip((levels - mu_s) * ratio + mu_d + 0.5, 0, 255).astype(np.uint8)  # (256, 3)
    return cv2.cvtColor(cv2.LUT(src, lut.reshape(256, 1, 3)), cv2.COLOR_LAB2RGB)


# Relighting (the seamless pipeline), in two parts:
# - skin tone: ``match_lab`` with its statistics taken on the skin in the band around the seam
#   (the pixels the eye compares across it), not over the whole face, whose middle (nose, lips,
#   make-up) says little about what borders the seam (contrast ratio within ``BAND_STD_RATIO``),
#   taken by each pixel in proportion to ``tone_weight``. Lab, not an RGB gain: a per-channel gain
#   that turns a pink face's skin to a pale one turns its highlights cyan;
# - shading: the source photo's low-frequency luminance is divided out and the target's multiplied
#   in, ``LP(Y_target) / LP(Y_warped)``, where LP is a Gaussian of ``RELIGHT_SIGMA`` of the face's
#   scale over skin pixels seen in both (normalised convolution, so eyes, brows, beards, hair and
#   occluders do not bleed into it). One cheek in shadow or a lit forehead carry over; the
#   source's features, at higher frequencies, stay the source's. Luminance only: a per-channel
#   local ratio paints coloured blotches wherever the two skins' colours vary differently.
RELIGHT_SIGMA = 0.2
# Skin in a narrow band varies little, so a contrast ratio measured there is noisy, and scaled up it
# pushes the features' colours (brown eyes) across the skin's mean (blue eyes): kept near 1.
BAND_STD_RATIO = 1.25
SHADING_RANGE = (0.6, 1.6)  # a face half in deep shadow is not amplified into noise
MIN_BAND_PIXELS = 64


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def shading_gain(
    target_work: np.ndarray, warped_work: np.ndarray, skin: np.ndarray, sigma: float
) -> np.ndarray:
    """The per-pixel luminance gain (float32, work grid) taking the warped face's low-frequency
    shading to the target's, measured over ``skin``; 1 where there is too little skin."""
    if skin.sum() < MIN_BAND_PIXELS:
        return np.ones(skin.shape, dtype=np.float32)
    lp_t = masked_blur(_luma(target_work.astype(np.float32)), skin, sigma)
    lp_w = masked_blur(_luma(warped_work.astype(np.float32)), skin, sigma)
    return np.clip((lp_t + 1.0) / (lp_w + 1.0), *SHADING_RANGE).astype(np.float32)


def tone_weight(warped_work: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """How much of the skin-tone shift each warped pixel takes (float32 in [0, 1], work grid): its
    chroma (distance from neutral in Lab a, b) over the skin's median chroma. Skin takes all of it;
    near-neutral features (teeth, the whites of the eyes, grey or brown irises) little, so they are
    not tinted with the skin's new hue (a shift towards blue across a brown iris turns it blue)."""
    lab = cv2.cvtColor(warped_work, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    if skin.sum() < MIN_BAND_PIXELS:
        return np.ones(chroma.shape, dtype=np.float32)
    reference = max(float(np.median(chroma[skin])), 1.0)
    return np.clip(chroma / reference, 0.0, 1.0).astype(np.float32)
