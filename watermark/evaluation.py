"""Measurements shared by the tests and ``bench/watermark.py``: raw bit accuracy, PSNR, SSIM."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watermark.codec import encode, message_bits, payload_to_bytes
from watermark.keys import check_key
from watermark.recovery import Recovery, candidates, decode_alignment, prepare


@dataclass(frozen=True)
class Reading:
    recovery: Recovery
    bit_accuracy: float  # share of the 172 embedded raw bits read correctly (before error correction)
    correct: bool  # found, and the payload is the embedded one


def read(image: np.ndarray, payload: int | bytes, key: bytes) -> Reading:
    """Recover with one key and score the raw bits against what was embedded.

    The raw bits are read at the alignment that decoded, or at the best-scoring one when none
    did. ``correct`` requires the decoded payload to be the embedded one.
    """
    key = check_key(key)
    data = payload_to_bytes(payload)
    truth = encode(message_bits(data, key)).astype(bool)
    alignments = candidates(prepare(image), key)
    found = decode_alignment(alignments, key, 0)
    if found is None:
        recovery = Recovery(found=False, payload=None, confidence=0.0, bit_errors=None, key_index=None)
        chosen = alignments[0]
    else:
        recovery, chosen = found
    correct = recovery.found and recovery.payload_bytes == data
    return Reading(recovery, float(np.mean((chosen.soft > 0) == truth)), correct)


def psnr(original: np.ndarray, marked: np.ndarray) -> float:
    mse = float(np.mean((original.astype(np.float64) - marked.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim(original: np.ndarray, marked: np.ndarray) -> float:
    """Mean SSIM over the RGB channels (scikit-image's defaults: 7 × 7 uniform window)."""
    from skimage.metrics import structural_similarity  # a test/bench dependency only

    return float(structural_similarity(original, marked, channel_axis=2, data_range=255))
