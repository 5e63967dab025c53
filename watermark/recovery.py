"""Recovery: estimate the geometry, read the raw bits, decode, and check the keyed tag.

False positives. A clean image is reported as watermarked only if a decoded 40-bit payload
comes with its 40-bit tag, ``HMAC-SHA-256(key, payload)`` truncated. For an image that was not
marked with that key, the decoded payload does not depend on the tag function's output, so
(HMAC being a pseudo-random function) each decoded candidate matches with probability 2⁻⁴⁰,
whatever the image's statistics. At most ``CANDIDATES`` candidates are decoded per key and at
most ``MAX_KEYS`` keys are tried, so

    P(false positive per image) ≤ MAX_KEYS · CANDIDATES · 2⁻⁴⁰ = 16 · 4 / 1.1·10¹² ≈ 5.8·10⁻¹¹,

below 10⁻⁹ by a factor of 17; with one key it is 3.6·10⁻¹². The geometry search (template
hypotheses, shifts) costs nothing here because it only chooses *which* candidates are decoded.
Candidates that look like noise (``promising`` is false) are not decoded at all, which only
lowers the bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from watermark import luma, template
from watermark.codec import PAYLOAD_BYTES, RAW_BITS, TAG_BYTES, encode, split_message, viterbi
from watermark.errors import InvalidKey
from watermark.keys import check_keys, tag
from watermark.layout import MAX_ANGLE_DEG, SCALE_RANGE, TILE
from watermark.pattern import pattern_for
from watermark.sync import Alignment, refine

MAX_KEYS = 16
CANDIDATES = 4  # at most this many alignments decoded per key (see the bound above)
TEMPLATE_UPRIGHT = 3  # template estimates without rotation ...
TEMPLATE_TURNED = 1  # ... and with one; plus the identity (plain resize): five in all
SCALE_STEP = 0.004
SCALES = np.exp(np.arange(math.log(SCALE_RANGE[0]), math.log(SCALE_RANGE[1]) + SCALE_STEP, SCALE_STEP))
ANGLES = template.angle_grid(MAX_ANGLE_DEG, 0.5)
# Which alignments are worth refining and decoding (to save time; neither enters the
# false-positive bound). Noise alone, measured over 1 267 clean photos of ../shared/data (best of
# each photo's candidates): sync_z mean 4.6, 99th percentile 5.55, max 5.9 (the best of 16 384
# shifts); data_z mean 1.1, max 4.2. The weakest marks that still decode (astronaut after the
# combined attack) have sync_z ≈ 6 but data_z < 1: the informed embedding cancels part of the
# photo's noise on the bits, which the per-ring noise estimate does not see, so data_z
# understates strong marks and cannot be the only gate; their sum helps at the margin (a readable
# astronaut after the combined attack: 5.1 + 3.8). About 7 % of clean photos pass.
MIN_SYNC_Z = 5.2
MIN_DATA_Z = 4.0
MIN_SCORE = 8.5


def promising(a: Alignment) -> bool:
    return a.sync_z >= MIN_SYNC_Z or a.data_z >= MIN_DATA_Z or a.score >= MIN_SCORE


@dataclass(frozen=True)
class Recovery:
    """What recovery found. ``confidence`` is the share of raw bits that agree with the decoded
    codeword (1.0 = untouched, ~0.9 after heavy processing); 0.0 when nothing was found."""

    found: bool
    payload: int | None
    confidence: float
    bit_errors: int | None  # raw bits (of 172) that disagree with the decoded codeword
    key_index: int | None  # which of the keys matched (0 = current)
    scale: float | None = None  # estimated magnification since embedding (e.g. 1.12 after an 80 % crop)
    angle_deg: float | None = None
    frames: int | None = None  # video: frames combined

    @property
    def payload_bytes(self) -> bytes | None:
        return None if self.payload is None else self.payload.to_bytes(PAYLOAD_BYTES, "big")

    def to_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "payload": self.payload,
            "confidence": round(self.confidence, 4),
            "bit_errors": self.bit_errors,
            "key_index": self.key_index,
            "scale": None if self.scale is None else round(self.scale, 4),
            "angle_deg": self.angle_deg,
            "frames": self.frames,
        }


NOT_FOUND = Recovery(found=False, payload=None, confidence=0.0, bit_errors=None, key_index=None)


def prepare(image: np.ndarray) -> np.ndarray:
    """The whitened canonical luminance plane that recovery works on (float32)."""
    rgb = luma.check_rgb(image)
    y = luma.luminance(rgb)
    return luma.whiten(luma.resize(y, luma.canonical_shape(*y.shape)))


def candidates(plane: np.ndarray, key: bytes, spectrum: np.ndarray | None = None) -> list[Alignment]:
    """The best alignments of ``plane`` with ``key``'s pattern, best first (at most CANDIDATES)."""
    lines = pattern_for(key).template
    if spectrum is None:
        spectrum = template.whitened_spectrum(plane)
    upright = template.estimate(spectrum, lines, TILE, SCALES, np.zeros(1), TEMPLATE_UPRIGHT)
    turned = template.estimate(spectrum, lines, TILE, SCALES, ANGLES[ANGLES != 0], TEMPLATE_TURNED)
    results: list[Alignment] = []
    for s, a in [(1.0, 0.0)] + [(s, a) for s, a, _ in upright + turned]:
        if any(abs(math.log(s / r.scale)) < 0.003 and a == r.angle_deg for r in results):
            continue
        results.append(refine(plane, key, s, a, promising))
    return sorted(results, key=lambda r: -r.score)[:CANDIDATES]


def decode(alignments: Sequence[Alignment], key: bytes, key_index: int) -> Recovery | None:
    """The first alignment whose decoded payload carries a valid tag, as a Recovery; else None."""
    found = decode_alignment(alignments, key, key_index)
    return found[0] if found else None


def decode_alignment(
    alignments: Sequence[Alignment], key: bytes, key_index: int
) -> tuple[Recovery, Alignment] | None:
    """Like ``decode``, also returning the alignment that was read."""
    readable = [a for a in alignments if promising(a)]
    if not readable:
        return None
    messages = viterbi(np.stack([a.soft for a in readable]))
    for a, message in zip(readable, messages, strict=True):
        data, check = split_message(message)
        if tag(key, data, TAG_BYTES) != check:
            continue
        errors = int(np.count_nonzero((a.soft > 0) != encode(message).astype(bool)))
        found = Recovery(
            found=True,
            payload=int.from_bytes(data, "big"),
            confidence=1.0 - errors / RAW_BITS,
            bit_errors=errors,
            key_index=key_index,
            scale=a.scale,
            angle_deg=a.angle_deg,
        )
        return found, a
    return None


def recover_plane(plane: np.ndarray, keys: bytes | Sequence[bytes]) -> Recovery:
    """Recovery from a plane made by ``prepare`` (or several of them summed, for video)."""
    key_list = check_keys(keys)
    if len(key_list) > MAX_KEYS:
        raise InvalidKey(f"At most {MAX_KEYS} keys may be tried (the false-positive bound counts them).")
    spectrum = template.whitened_spectrum(plane)
    for index, key in enumerate(key_list):
        found = decode(candidates(plane, key, spectrum), key, index)
        if found:
            return found
    return NOT_FOUND


def recover(image: np.ndarray, keys: bytes | Sequence[bytes]) -> Recovery:
    """Look for a watermark made with one of ``keys`` (current key first, then previous ones).

    ``image``: RGB uint8, short side ≥ 128 px. Raises ``WatermarkError`` on bad input; a clean
    image gives ``found=False``.
    """
    key_list = check_keys(keys)  # bad keys are reported before any pixel work
    return recover_plane(prepare(image), key_list)
