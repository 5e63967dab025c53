"""Aligning a received image with the embedding grid, and reading its raw bits.

Given a scale/rotation hypothesis (from ``template``), the whitened canonical plane is
resampled back to the embedding scale and folded onto one tile (all tile-sized blocks summed):
whatever the crop, the watermark is then the embedded tile shifted cyclically, and the
correlation with the known part of the pattern over all cyclic shifts (one inverse FFT) finds
the shift. The raw bits are then read at that shift, bin by bin, in the Fourier domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import scipy.fft as sfft

from watermark.codec import RAW_BITS
from watermark.layout import TEMPLATE_GAIN, TILE
from watermark.pattern import ROLE_SYNC, ROLE_TEMPLATE, pattern_for

FINE_STEP = 0.005  # log-scale step of the matched-filter refinement around a scale estimate


@dataclass(frozen=True)
class Alignment:
    scale: float
    angle_deg: float
    shift: tuple[float, float]  # (dy, dx) of the tile, in canonical pixels
    sync_z: float  # correlation with the known signal at the best shift, in noise standard deviations
    data_z: float  # energy of the raw-bit correlations (chi-square, standardised): ≈ N(0, 1) on noise
    soft: np.ndarray  # (RAW_BITS,) soft values, positive = bit 1, unit noise variance

    @property
    def score(self) -> float:
        return self.sync_z + self.data_z


@dataclass(frozen=True)
class Band:
    """A key's pattern laid out for reading: rfft2 positions, carriers, roles."""

    rows: np.ndarray  # rfft2 row/column of each bin
    cols: np.ndarray
    ky: np.ndarray  # signed frequency, cycles per tile
    kx: np.ndarray
    phase: np.ndarray
    known: np.ndarray  # amplitude of the known signal (sync and template bins), 0 on data bins
    bit: np.ndarray  # raw bit carried, -1 on known bins
    ring: np.ndarray  # ring (rounded radius) of each bin
    ring_bins: np.ndarray  # sync and data bins, whose power estimates each ring's noise ...
    inv_ring_count: np.ndarray  # ... and 1 / their number per ring


@lru_cache(maxsize=32)
def band_for(key: bytes) -> Band:
    pattern = pattern_for(key)
    ky, kx = pattern.bins[:, 0], pattern.bins[:, 1]
    known = np.where(
        pattern.role == ROLE_TEMPLATE, TEMPLATE_GAIN, np.where(pattern.role == ROLE_SYNC, 1.0, 0.0)
    )
    ring = np.rint(np.hypot(ky, kx)).astype(np.int64)
    ring_bins = np.flatnonzero(pattern.role != ROLE_TEMPLATE)
    inv_ring_count = 1.0 / np.maximum(np.bincount(ring[ring_bins], minlength=ring.max() + 1), 1)
    return Band(
        rows=ky % TILE,
        cols=kx,
        ky=ky.astype(np.float64),
        kx=kx.astype(np.float64),
        phase=pattern.phase,
        known=known,
        bit=np.where(pattern.role >= 0, pattern.role, -1),
        ring=ring,
        ring_bins=ring_bins,
        inv_ring_count=inv_ring_count,
    )


def to_frame(plane: np.ndarray, scale: float, angle_deg: float = 0.0) -> np.ndarray:
    """Undo a magnification by ``scale`` and a rotation by ``angle_deg`` about the centre."""
    h, w = plane.shape
    oh, ow = max(1, round(h / scale)), max(1, round(w / scale))
    if angle_deg == 0.0:
        return plane if scale == 1.0 else cv2.resize(plane, (ow, oh), interpolation=cv2.INTER_CUBIC)
    a = math.radians(angle_deg)
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre_in = np.array([(w - 1) / 2, (h - 1) / 2])
    centre_out = np.array([(ow - 1) / 2, (oh - 1) / 2])
    m = np.hstack([rot, (centre_in - rot @ centre_out)[:, None]])
    return cv2.warpAffine(plane, m, (ow, oh), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderValue=0.0)


def fold(plane: np.ndarray) -> np.ndarray:
    """Sum of all TILE-sized blocks (the last partial ones zero-padded)."""
    h, w = plane.shape
    ph, pw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    if (ph, pw) != (h, w):
        padded = np.zeros((ph, pw), dtype=plane.dtype)
        padded[:h, :w] = plane
        plane = padded
    return plane.reshape(ph // TILE, TILE, pw // TILE, TILE).sum(axis=(0, 2))


def demodulate(
    folded: np.ndarray, band: Band, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin values with each carrier's phase removed, and the noise variance of their real parts.

    Each bin is divided by the mean power of the pattern's bins at the same radius: the photo's
    leftover spectrum falls steeply with frequency and this whitens it. The real part of a
    whitened bin then has variance ``weight / 2`` under noise alone. Only the pattern's own bins
    estimate the noise: the axes, left out of the pattern, carry more of the photo's energy.
    """
    values = sfft.rfft2(folded)[band.rows, band.cols]
    if weight is None:
        power = values.real[band.ring_bins] ** 2 + values.imag[band.ring_bins] ** 2
        ring = np.bincount(band.ring[band.ring_bins], weights=power, minlength=len(band.inv_ring_count))
        weight = 1.0 / np.maximum((ring * band.inv_ring_count)[band.ring], 1e-20)
    return values * weight * np.conj(band.phase), weight / 2.0


def per_bit(values: np.ndarray, band: Band) -> np.ndarray:
    """Sum of per-bin values over each raw bit's bins."""
    data = band.bit >= 0
    return np.bincount(band.bit[data], weights=values[data], minlength=RAW_BITS)


def _peak_offset(left: float, centre: float, right: float) -> float:
    denom = left - 2 * centre + right
    return 0.0 if denom >= 0 else float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def align(folded: np.ndarray, band: Band, scale: float, angle_deg: float) -> Alignment:
    z, var = demodulate(folded, band)
    q = np.zeros((TILE, TILE // 2 + 1), dtype=np.complex128)
    known = band.known > 0
    q[band.rows[known], band.cols[known]] = z[known] * band.known[known]  # matched filter
    corr = sfft.irfft2(q, s=(TILE, TILE))
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    peak = float(corr[iy, ix])
    dy = iy + _peak_offset(float(corr[iy - 1, ix]), peak, float(corr[(iy + 1) % TILE, ix]))
    dx = ix + _peak_offset(float(corr[iy, ix - 1]), peak, float(corr[iy, (ix + 1) % TILE]))
    # irfft2 sums each half-plane bin with its conjugate and divides by TILE²: undo both.
    sync_z = peak * TILE * TILE / 2.0 / math.sqrt(float(np.sum(band.known**2 * var)))
    per_bin = np.real(z * np.exp(2j * np.pi * (band.ky * dy + band.kx * dx) / TILE))
    soft = per_bit(per_bin, band)
    noise = per_bit(var, band)
    soft /= np.sqrt(noise)
    data_z = float((np.sum(soft**2) - RAW_BITS) / math.sqrt(2.0 * RAW_BITS))
    return Alignment(scale, angle_deg, (dy, dx), sync_z, data_z, soft)


def align_at(plane: np.ndarray, key: bytes, scale: float, angle_deg: float = 0.0) -> Alignment:
    return align(fold(to_frame(plane, scale, angle_deg)), band_for(key), scale, angle_deg)


def _vertex(x: np.ndarray, y: np.ndarray) -> float:
    """Abscissa of the parabola's vertex through three points (the middle one if not concave)."""
    a, b, _ = np.polyfit(x, y, 2)
    return float(x[1]) if a >= 0 else float(np.clip(-b / (2 * a), x[0], x[2]))


def refine(
    plane: np.ndarray, key: bytes, scale: float, angle_deg: float, worth: Callable[[Alignment], bool]
) -> Alignment:
    """Matched-filter alignment at ``scale`` and, when ``worth`` says there is something to
    refine, at its two neighbours and at the vertex of the parabola through them."""
    centre = align_at(plane, key, scale, angle_deg)
    if not worth(centre):
        return centre
    row = [
        align_at(plane, key, scale * math.exp(-FINE_STEP), angle_deg),
        centre,
        align_at(plane, key, scale * math.exp(FINE_STEP), angle_deg),
    ]
    scores = np.array([r.score for r in row])
    best = row[int(np.argmax(scores))]
    vertex = math.exp(_vertex(np.log([r.scale for r in row]), scores))
    if abs(math.log(vertex / best.scale)) < FINE_STEP / 4:
        return best
    top = align_at(plane, key, vertex, angle_deg)
    return top if top.score > best.score else best
