"""Clean images are never reported as watermarked.

The analytic bound (see ``watermark.recovery``): each decoded candidate carries the right
40-bit keyed tag with probability 2^-40, so P(false positive) ≤ keys × candidates × 2^-40
(3.6e-12 with one key). Here every image of ../shared/data is checked: zero detections allowed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from watermark import embed
from watermark.recovery import candidates, decode, prepare, promising

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@pytest.mark.slow
def test_no_false_detection_on_all_shared_images(shared_data: Path, key: bytes) -> None:
    files = sorted(p for p in shared_data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    assert len(files) > 10_000, f"expected the full shared data set, found {len(files)} images"
    start = time.perf_counter()
    found, best, decoded = [], [], 0
    for path in files:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        alignments = candidates(prepare(rgb), key)  # what recover(rgb, key) does, with the scores kept
        best.append(alignments[0].score)
        decoded += any(promising(a) for a in alignments)
        if decode(alignments, key, 0) is not None:
            found.append(path.name)
    elapsed = time.perf_counter() - start
    print(
        f"{len(files)} clean images in {elapsed:.0f} s ({1000 * elapsed / len(files):.1f} ms each); "
        f"best score mean {np.mean(best):.2f}, p99 {np.percentile(best, 99):.2f}, max {np.max(best):.2f}; "
        f"images with a candidate decoded: {decoded}; found: {found}"
    )
    assert found == []


def test_clean_scores_look_like_noise(ffhq: list[np.ndarray], key: bytes) -> None:
    """On clean photos the best alignment scores like noise, far below a marked photo's."""
    clean = [candidates(prepare(image), key)[0].score for image in ffhq]
    marked = [candidates(prepare(embed(image, 1, key)), key)[0].score for image in ffhq]
    assert max(clean) < 8.0 < min(marked)
