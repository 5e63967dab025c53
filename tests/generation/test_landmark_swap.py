"""The built-in engine on real photos: identity moves to the source, outputs carry the watermark,
bad inputs get typed errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import watermark
from generation.landmark import (
    InvalidImage,
    LandmarkSwapper,
    NoFaceInSource,
    NoFaceInTarget,
    SeveralFacesInSource,
    SwapError,
    WatermarkRequired,
    WatermarkSpec,
    identity,
)
from tests.generation.landmark_media import KEY, ffhq, utkface

PAIRS = [(3, 4), (10, 11), (20, 21), (31, 30), (40, 41), (55, 56)]  # FFHQ: different people


@pytest.fixture(scope="module")
def swapper() -> LandmarkSwapper:
    return LandmarkSwapper()


@pytest.fixture(scope="module")
def spec() -> WatermarkSpec:
    return WatermarkSpec(payload=0x12_3456_789A, key=KEY)


def test_swap_moves_identity_towards_the_source(shared_data: Path, swapper: LandmarkSwapper, spec) -> None:
    rows = []
    for s, t in PAIRS:
        source, target = ffhq(shared_data, s), ffhq(shared_data, t)
        out = swapper.swap_image(source, target, watermark=spec).image
        d_src, d_tgt, d_out = (identity.descriptor(x) for x in (source, target, out))
        rows.append(
            (
                identity.similarity(d_out, d_src),
                identity.similarity(d_tgt, d_src),
                identity.similarity(d_out, d_tgt),
            )
        )
    to_src, before, to_tgt = np.array(rows).T
    # Every swap is closer to the source than the original target was...
    assert np.all(to_src > before + 0.03), rows
    # ...and, on average, closer to the source than to the target it was pasted into.
    assert to_src.mean() > to_tgt.mean() + 0.05, rows


def test_utkface_chips_swap_both_ways(shared_data: Path, swapper: LandmarkSwapper, spec) -> None:
    """Tight 200 px aligned crops (no margin around the face) work as source and as target."""
    a, b = utkface(shared_data, 2, start=500)
    for source, target in ((a, b), (b, a)):
        result = swapper.swap_image(source, target, watermark=spec)
        d_src, d_tgt, d_out = (identity.descriptor(x) for x in (source, target, result.image))
        assert identity.similarity(d_out, d_src) > identity.similarity(d_tgt, d_src)
        assert result.faces_in_target == 1 and result.warped_landmarks.shape == (78, 2)


def test_output_carries_the_watermark_after_jpeg_75(
    shared_data: Path, swapper: LandmarkSwapper, spec
) -> None:
    target = ffhq(shared_data, 11)
    result = swapper.swap_image(ffhq(shared_data, 10), target, watermark=spec)
    assert result.payload == spec.payload_bytes
    buf = io.BytesIO()
    Image.fromarray(result.image).save(buf, format="JPEG", quality=75)
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    found = watermark.recover(decoded, keys=[KEY])
    assert found.found and found.payload == spec.payload
    # The target itself carries nothing under this key: the mark came from the engine.
    assert not watermark.recover(target, keys=[KEY]).found
    # Outside the face (bounding box of the warped mesh, plus margin) only the faint mark changed.
    x0, y0 = np.floor(result.warped_landmarks.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(result.warped_landmarks.max(axis=0)).astype(int) + 3
    outside = np.ones(target.shape[:2], bool)
    outside[max(0, y0) : y1, max(0, x0) : x1] = False
    diff = result.image.astype(float)[outside] - target.astype(float)[outside]
    assert 10 * np.log10(255**2 / np.mean(diff**2)) > 38.0


def test_watermark_is_required(shared_data: Path, swapper: LandmarkSwapper) -> None:
    source, target = ffhq(shared_data, 3), ffhq(shared_data, 4)
    for bad in (None, {"payload": 1, "key": KEY}, (1, KEY)):
        with pytest.raises(WatermarkRequired) as err:
            swapper.swap_image(source, target, watermark=bad)  # type: ignore[arg-type]
        assert err.value.code == "watermark_required"
    with pytest.raises(watermark.InvalidKey):
        WatermarkSpec(payload=1, key=b"")
    with pytest.raises(watermark.InvalidPayload):
        WatermarkSpec(payload=2**40, key=KEY)


def test_largest_target_face_is_swapped(shared_data: Path, swapper: LandmarkSwapper, spec) -> None:
    big = ffhq(shared_data, 21)
    small = np.asarray(Image.fromarray(ffhq(shared_data, 41)).resize((320, 320)))
    group = np.zeros((512, 832, 3), np.uint8)
    group[:, :512], group[96:416, 512:] = big, small
    result = swapper.swap_image(ffhq(shared_data, 20), group, watermark=spec)
    assert result.faces_in_target == 2
    assert (result.target_box.x1 + result.target_box.x2) / 2 < 512
    right = np.abs(result.image[96:416, 560:].astype(int) - group[96:416, 560:].astype(int))
    assert right.mean() < 3.0  # the small face only got the watermark


def _two_faces(shared_data: Path) -> np.ndarray:
    return np.concatenate([ffhq(shared_data, 3), ffhq(shared_data, 4)], axis=1)


def test_error_codes(shared_data: Path, swapper: LandmarkSwapper, spec) -> None:
    from skimage import data

    face = ffhq(shared_data, 3)
    no_face = np.ascontiguousarray(data.coffee())
    cases = [
        (no_face, face, NoFaceInSource, "no_face_in_source"),
        (_two_faces(shared_data), face, SeveralFacesInSource, "several_faces_in_source"),
        (face, no_face, NoFaceInTarget, "no_face_in_target"),
        (face[..., 0], face, InvalidImage, "invalid_image"),
        (face, face.astype(np.float32), InvalidImage, "invalid_image"),
        (face, face[:100, :100], InvalidImage, "invalid_image"),  # too small to carry the watermark
    ]
    for source, target, error, code in cases:
        with pytest.raises(error) as err:
            swapper.swap_image(source, target, watermark=spec)
        assert isinstance(err.value, SwapError)
        assert err.value.code == code and err.value.to_dict()["code"] == code
