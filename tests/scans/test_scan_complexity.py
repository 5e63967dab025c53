"""Issue 21, "small files that cost a lot": a small file may declare a large picture. The work of one
request is bounded in pixels (SCAN_MAX_TOTAL_PIXELS, 413 ``media_too_complex``, checked from the
headers before anything is decoded), and large images are analysed at reduced size
(DETECTOR_WORK_PIXELS) with face boxes still in the stored image's pixels.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from detection.imaging import image_pixels, load_image_scaled
from moderation.scans.models import Scan, ScanMedia
from tests.support.scans import stored_files, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_request_pixel_budget_is_checked_before_decoding(
    api: APIClient, settings: Any, media_root: Path
) -> None:
    settings.FAKEME_SCANS = {**settings.FAKEME_SCANS, "MAX_TOTAL_PIXELS": 1_000_000}
    picture = _png(700, 700)  # 490,000 pixels in about 2 kB
    assert len(picture) < 5_000 and image_pixels(picture) == 490_000
    files = [upload(f"{i}.png", picture, "image/png") for i in range(3)]
    response = api.post(SCANS, {"media": files}, format="multipart")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["error"]["code"] == "media_too_complex"
    assert Scan.objects.count() == 0 and ScanMedia.objects.count() == 0
    assert stored_files(media_root) == []
    two = [upload(f"{i}.png", picture, "image/png") for i in range(2)]
    assert api.post(SCANS, {"media": two}, format="multipart").status_code == 200


def test_the_budget_also_holds_for_queued_scans(api: APIClient, settings: Any, media_root: Path) -> None:
    settings.FAKEME_SCANS = {**settings.FAKEME_SCANS, "MAX_TOTAL_PIXELS": 400_000}
    response = api.post(SCANS + "?async=1", {"media": upload("a.png", _png(700, 700), "image/png")})
    assert response.status_code == 413 and response.json()["error"]["code"] == "media_too_complex"
    assert stored_files(media_root) == []


def test_large_jpeg_is_decoded_at_reduced_size() -> None:
    rgb = np.zeros((3000, 2000, 3), np.uint8)
    rgb[::50] = 200
    scaled = load_image_scaled(_jpeg(rgb), work_pixels=1_000_000)
    height, width = scaled.rgb.shape[:2]
    assert width * height <= 1_000_000
    assert (scaled.width, scaled.height) == (2000, 3000)
    assert scaled.scale == pytest.approx(width / 2000)


def test_faces_are_reported_in_stored_pixels(api: APIClient, settings: Any, astronaut: np.ndarray) -> None:
    """The same photo at three times its size, analysed under a work limit it exceeds: the verdict's
    face box is three times the original's (stored pixels), though detection ran on a reduced copy."""
    small = _jpeg(astronaut)
    large = _jpeg(np.asarray(Image.fromarray(astronaut).resize((1536, 1536), Image.BICUBIC)))
    base = api.post(SCANS, {"media": upload("a.jpg", small)}, format="multipart").json()
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WORK_PIXELS": 400_000}
    big = api.post(SCANS, {"media": upload("b.jpg", large)}, format="multipart").json()
    (face,) = base["media"][0]["result"]["faces"]
    (big_face,) = big["media"][0]["result"]["faces"]
    assert np.allclose(np.array(big_face["box"]) / 3.0, face["box"], atol=12.0), (big_face, face)
