"""Each attack of the issue, asserted at its target on real photos of 512 px.

The robust set is scikit-image's astronaut plus a fixed sample of the shared FFHQ faces (the
FFHQ part skips when ../shared/data is absent). Targets: raw bit accuracy ≥ 0.95 on average
(before error correction) and the payload recovered from every image; PSNR ≥ 40 dB and
SSIM ≥ 0.98 for every image. ``bench/watermark.py`` measures the same over more images.
"""

from __future__ import annotations

import numpy as np
import pytest

from watermark import attacks, embed
from watermark.evaluation import psnr, read, ssim

REPORTED = ("screenshot_resize", "rotate_2deg")  # "report either way" in the issue; they pass, so asserted


@pytest.fixture(scope="module")
def robust_set(
    astronaut: np.ndarray, ffhq: list[np.ndarray], key: bytes
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(original, marked, payload) for each photo; payloads differ per photo."""
    rng = np.random.default_rng(5)
    out = []
    for image in [astronaut, *ffhq]:
        payload = int(rng.integers(0, 2**40))
        out.append((image, embed(image, payload, key), payload))
    return out


@pytest.mark.parametrize("attack", attacks.REQUIRED + REPORTED)
def test_attack(robust_set: list[tuple[np.ndarray, np.ndarray, int]], key: bytes, attack: str) -> None:
    transform = attacks.ATTACKS[attack]
    readings = [read(transform(marked), payload, key) for _, marked, payload in robust_set]
    accuracy = [r.bit_accuracy for r in readings]
    missed = [i for i, r in enumerate(readings) if not r.correct]
    print(f"{attack}: bit accuracy mean {np.mean(accuracy):.3f} min {np.min(accuracy):.3f}, missed {missed}")
    assert np.mean(accuracy) >= 0.95, accuracy
    assert missed == [], accuracy


def test_invisible(robust_set: list[tuple[np.ndarray, np.ndarray, int]]) -> None:
    for original, marked, _ in robust_set:
        assert psnr(original, marked) >= 40.0
        assert ssim(original, marked) >= 0.98


def test_smaller_photos_stay_within_psnr(sample_photos: dict[str, np.ndarray], key: bytes) -> None:
    """Below 512 px the SSIM governor may run out of room (its floor keeps the mark readable);
    PSNR holds everywhere and the mark survives JPEG 50."""
    for image in sample_photos.values():
        marked = embed(image, 31337, key)
        assert psnr(original := image, marked) >= 40.0
        assert ssim(original, marked) >= 0.97
        assert read(attacks.jpeg(marked), 31337, key).correct


def test_changes_luminance_only(astronaut: np.ndarray, key: bytes) -> None:
    """The same change on R, G and B: Cb and Cr stay put (up to uint8 rounding and clipping)."""
    marked = embed(astronaut, 1, key).astype(np.int16)
    diff = marked - astronaut.astype(np.int16)
    unclipped = (marked > 0).all(axis=2) & (marked < 255).all(axis=2)
    assert np.array_equal(diff[..., 0][unclipped], diff[..., 1][unclipped])
    assert np.array_equal(diff[..., 1][unclipped], diff[..., 2][unclipped])
