"""The keyed tile pattern: which frequencies carry the template, the sync signal and each raw bit.

The tile is defined by its 2-D DFT on a TILE × TILE grid. Every in-band frequency (one of each
conjugate pair) gets a keyed random phase. Three roles:

* template: a few frequencies with TEMPLATE_GAIN times the amplitude. They are spectral lines
  strong enough to be found in the magnitude spectrum of the whole image, which does not depend
  on where the image was cropped, so recovery estimates scale and rotation from them in one FFT;
* sync: a known keyed signal whose correlation over all cyclic shifts of the folded tile gives
  the translation;
* data: the rest, split evenly among the raw bits; every bit is spread over several frequencies
  in different directions, so a strong periodic texture in the photo can only hurt a few of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft as sfft

from watermark.codec import RAW_BITS
from watermark.keys import permutation, random_unit
from watermark.layout import (
    AXIS_GAP_DEG,
    BAND,
    BITS_PER_RAW,
    TEMPLATE_GAIN,
    TEMPLATE_LINES,
    TEMPLATE_MIN_SEPARATION_DEG,
    TEMPLATE_RADIUS,
    TILE,
)

# Directions where JPEG's 8×8 block grid puts its strongest spectral lines, whatever the image
# size: (j, l)/8 cycles per pixel on rays at atan(l/j). Template lines keep away from them.
_BLOCK_RAYS_DEG = np.degrees(np.arctan2([0, 1, 1, 2, 1], [1, 2, 1, 1, 0]))
_RAY_GAP_DEG = 3.0
_TEMPLATE_AXIS_GAP_DEG = 10.0  # photos put much of their energy near the axes (upright edges)

ROLE_TEMPLATE, ROLE_SYNC = -2, -1


def band_bins(tile: int = TILE) -> np.ndarray:
    """In-band ``(ky, kx)`` bins with ``kx > 0``, ordered deterministically (ky, then kx)."""
    k = np.arange(-tile // 2, tile // 2)
    ky, kx = np.meshgrid(k, np.arange(1, tile // 2), indexing="ij")
    radius = np.hypot(ky, kx) / tile
    angle = np.degrees(np.arctan2(np.abs(ky), kx))
    keep = (radius >= BAND[0]) & (radius <= BAND[1])
    keep &= (angle >= AXIS_GAP_DEG) & (angle <= 90.0 - AXIS_GAP_DEG)
    return np.stack([ky[keep], kx[keep]], axis=1)


@dataclass(frozen=True)
class Pattern:
    bins: np.ndarray  # (M, 2) int: (ky, kx) of every used bin, in cycles per tile
    phase: np.ndarray  # (M,) complex unit carriers e^{iφ}
    role: np.ndarray  # (M,) raw bit index carried by the bin, or ROLE_SYNC / ROLE_TEMPLATE

    @property
    def rfft_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Row/column of each bin in a ``rfft2`` array of the tile."""
        return self.bins[:, 0] % TILE, self.bins[:, 1]

    @property
    def template(self) -> np.ndarray:
        return self.bins[self.role == ROLE_TEMPLATE]

    def tile(self, bit_amplitudes: np.ndarray, sync_amplitude: float = 1.0) -> np.ndarray:
        """The spatial tile (float64) for signed per-bit amplitudes (±1 for plain raw bits).

        Unit amplitudes on every bin (template aside) give unit RMS without the template.
        """
        amp = np.full(len(self.bins), float(TEMPLATE_GAIN))
        amp[self.role == ROLE_SYNC] = sync_amplitude
        data = self.role >= 0
        amp[data] = np.asarray(bit_amplitudes, dtype=np.float64)[self.role[data]]
        spec = np.zeros((TILE, TILE // 2 + 1), dtype=np.complex128)
        rows, cols = self.rfft_index
        spec[rows, cols] = amp * self.phase
        # irfft2 counts each half-plane bin twice (with its conjugate) and divides by TILE².
        unit = TILE * TILE / math.sqrt(2.0 * int(np.count_nonzero(self.role != ROLE_TEMPLATE)))
        return sfft.irfft2(spec, s=(TILE, TILE)) * unit


def _pick_template(bins: np.ndarray, key: bytes) -> np.ndarray:
    """Indices of TEMPLATE_LINES bins: in the template ring, off the JPEG rays, spread in angle."""
    radius = np.hypot(bins[:, 0], bins[:, 1]) / TILE
    angle = np.degrees(np.arctan2(bins[:, 0], bins[:, 1]))  # (-90, 90)
    ray_gap = np.min(np.abs(np.abs(angle)[:, None] - _BLOCK_RAYS_DEG[None, :]), axis=1)
    axis_gap = np.minimum(np.abs(angle) % 90.0, 90.0 - np.abs(angle) % 90.0)
    ok = (radius >= TEMPLATE_RADIUS[0]) & (radius <= TEMPLATE_RADIUS[1])
    ok &= (ray_gap >= _RAY_GAP_DEG) & (axis_gap >= _TEMPLATE_AXIS_GAP_DEG)
    # Greedy in keyed order; an unlucky order can crowd the sectors (never seen in 3 000 random
    # keys), so retry with further keyed orders: the choice stays a deterministic function of the key.
    for attempt in range(16):
        chosen: list[int] = []
        for i in permutation(key, f"template/{attempt}", len(bins)):
            if not ok[i]:
                continue
            gaps = [abs(angle[i] - angle[j]) for j in chosen]
            if all(min(g, 180.0 - g) >= TEMPLATE_MIN_SEPARATION_DEG for g in gaps):
                chosen.append(int(i))
                if len(chosen) == TEMPLATE_LINES:
                    return np.array(chosen)
    raise RuntimeError("The template constraints leave room for too few lines")  # a layout bug


@lru_cache(maxsize=32)
def pattern_for(key: bytes) -> Pattern:
    bins = band_bins()
    count = len(bins)
    phase = np.exp(2j * math.pi * random_unit(key, "phase", count))
    role = np.full(count, ROLE_SYNC)
    template = _pick_template(bins, key)
    role[template] = ROLE_TEMPLATE
    rest = permutation(key, "bins", count)
    rest = rest[role[rest] != ROLE_TEMPLATE]
    data = rest[: BITS_PER_RAW * RAW_BITS]
    role[data] = np.tile(np.arange(RAW_BITS), BITS_PER_RAW)  # bit j: data[j], data[j + RAW_BITS], ...
    return Pattern(bins=bins, phase=phase, role=role)
