"""Geometry and strength constants shared by embedding and recovery.

Changing any of the pattern constants changes the scheme: marks embedded before the change are
no longer found (never misread: the keyed tag rejects them). Bump ``keys.SCHEME`` with them.
"""

from __future__ import annotations

# The luminance is resized so its short side is CANONICAL pixels; every length and frequency
# below is in these canonical pixels, which makes the mark independent of the image's size.
CANONICAL = 256
MIN_SIDE = 128  # smallest short side accepted, in image pixels
# The pattern is a TILE × TILE tile repeated over the canonical plane; recovery folds the plane
# onto one tile, so a crop only shifts the tile cyclically.
TILE = 128
# Pattern frequencies, in cycles per canonical pixel: low enough to survive a 0.5× downscale
# followed by JPEG at quality 50 (which keeps only the lowest DCT frequencies), high enough to
# stay clear of most of the photo's own energy (measured per frequency ring: see docs/watermark.md).
BAND = (0.08, 0.24)
# Frequencies within this angle of the axes are left out: image borders, horizontal/vertical
# edges and JPEG's 8×8 block grid put their energy there.
AXIS_GAP_DEG = 5.0
BITS_PER_RAW = 6  # frequencies per raw bit; what is left of the band (~11 %) carries the sync signal
# Template: a few lines with TEMPLATE_GAIN times the others' amplitude, found in the magnitude
# spectrum to estimate scale and rotation.
TEMPLATE_LINES = 8
TEMPLATE_GAIN = 5.0
TEMPLATE_RADIUS = (0.14, 0.19)
TEMPLATE_MIN_SEPARATION_DEG = 10.0

# Strength: the luminance change is scaled to this PSNR (before uint8 rounding) ...
TARGET_PSNR_DB = 40.5
# ... or lower, so that the SSIM predicted on luminance stays at or above this (flat images),
SSIM_TARGET = 0.983
# ... but never below this fraction of the PSNR-based strength (the mark must stay readable).
MIN_STRENGTH = 0.5
# Informed embedding: each raw bit's amplitude cancels this share of the photo's own
# correlation with that bit's pattern, and never drops below MIN_BIT_AMPLITUDE.
HOST_CANCEL = 0.8
MIN_BIT_AMPLITUDE = 0.5

# Geometry search at recovery: magnification by a crop (or shrinking by padding), rotation.
SCALE_RANGE = (0.9, 1.6)
MAX_ANGLE_DEG = 3.0
