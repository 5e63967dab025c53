"""The seamless pipeline of the built-in engine (issue 23): the mask stays inside the face's contour
and hairline and is feathered; occluders on the target stay in front; faces turned too differently
are refused (or the source is mirrored); grain is matched; outputs still carry the watermark.

Each check is paired with the legacy pipeline (``SwapSettings(legacy=True)``) where that shows the
check can fail: the old engine pasted over hair and glasses.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import watermark
from generation.landmark import (
    LandmarkSwapper,
    PoseMismatch,
    SwapError,
    SwapSettings,
    WatermarkSpec,
    faces,
    grain,
    mask,
    mesh,
    pose,
)
from generation.landmark.engine import Composite
from tests.generation.landmark_media import KEY, ffhq, moving_clip, write_mp4v

SOURCE, TARGET = 3, 4  # FFHQ: different people, both near frontal


@pytest.fixture(scope="module")
def swapper() -> LandmarkSwapper:
    return LandmarkSwapper()


@pytest.fixture(scope="module")
def legacy() -> LandmarkSwapper:
    return LandmarkSwapper(SwapSettings(legacy=True, blend="feather"))


@pytest.fixture(scope="module")
def spec() -> WatermarkSpec:
    return WatermarkSpec(payload=0x0A_2300_0017, key=KEY)


def _points(rgb: np.ndarray) -> np.ndarray:
    return faces.landmarks(rgb, faces.detect(rgb)[0])


def _composite(
    engine: LandmarkSwapper, source: np.ndarray, target: np.ndarray
) -> tuple[Composite, np.ndarray]:
    """The unmarked swap and its blend mask over the whole frame."""
    points = _points(target)
    result = engine._swap_unmarked(engine.prepare_source(source), target, points)
    alpha = np.zeros(target.shape[:2], np.float32)
    assert result.alpha is not None
    alpha[result.region.slices] = result.alpha
    return result, alpha


def _polygon(shape: tuple[int, ...], polygon: np.ndarray) -> np.ndarray:
    out = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(out, [np.round(polygon).astype(np.int32)], 1)
    return out > 0


# ----------------------------------------------------------------------------- mask


def test_mask_is_zero_outside_the_contour_and_ramps_inside_it(
    shared_data: Path, swapper: LandmarkSwapper, legacy: LandmarkSwapper
) -> None:
    source, target = ffhq(shared_data, SOURCE), ffhq(shared_data, TARGET)
    points = _points(target)
    contour = _polygon(target.shape, mask.contour(mesh.dense(points)))
    _, alpha = _composite(swapper, source, target)
    assert alpha[~contour].max() == 0.0  # nothing of the source outside the jaw and forehead arc
    # Feathered: a band of intermediate values inside the edge, full strength in the middle.
    dist = cv2.distanceTransform(contour.astype(np.uint8), cv2.DIST_L2, 5)
    scale = mesh.face_scale(points)
    ring = contour & (dist < mask.FEATHER * scale)
    between = (alpha > 0.02) & (alpha < 0.98)
    assert between[ring].mean() > 0.4
    assert alpha[int(points[30, 1]), int(points[30, 0])] > 0.99  # nose tip
    shells = [alpha[contour & (dist >= d) & (dist < d + 4)].mean() for d in range(0, int(0.2 * scale), 4)]
    assert all(b >= a - 0.02 for a, b in zip(shells, shells[1:], strict=False)), shells  # rises inwards
    # The legacy mask was a blurred hull cut off by the warp's coverage: non-zero right up to the
    # edge of the contour, then a step to 0 (the hard jaw line of issue 23).
    _, old = _composite(legacy, source, target)
    edge = contour & (dist < 2)
    assert old[edge].max() > 0.2 and alpha[edge].max() == 0.0


def _fringe(target: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``target`` with dark-brown hair painted over the upper forehead, down to a wavy hairline
    0.1 face scales above the brows, and where the fringe is (bool)."""
    dense = mesh.dense(points)
    scale = mesh.face_scale(points)
    brows = points[17:27].copy()
    brows[:, 1] -= 0.1 * scale
    brows[:, 1] += 0.03 * scale * np.sin(np.arange(10))  # strands, not a straight edge
    top = dense[68:78].copy()
    top[:, 1] -= 0.3 * scale
    region = _polygon(target.shape, np.concatenate([brows, top[::-1]]))
    rng = np.random.default_rng(4)
    hair = np.array([70, 45, 30], np.float32) + rng.normal(0, 6, target.shape).astype(np.float32)
    out = target.copy()
    out[region] = np.clip(hair[region], 0, 255).astype(np.uint8)
    return out, region


def test_mask_stops_at_the_hairline(
    shared_data: Path, swapper: LandmarkSwapper, legacy: LandmarkSwapper
) -> None:
    source, plain = ffhq(shared_data, SOURCE), ffhq(shared_data, TARGET)
    target, fringe = _fringe(plain, _points(plain))
    result, alpha = _composite(swapper, source, target)
    assert fringe.sum() > 2000
    assert alpha[fringe].max() < 0.05  # the hair stays the target's
    diff = np.abs(result.image.astype(int) - target.astype(int))[fringe]
    assert diff.mean() < 3.0
    # Below it the face is swapped.
    points = _points(target)
    assert alpha[int(points[30, 1]), int(points[30, 0])] > 0.99
    _, old = _composite(legacy, source, target)
    assert (old[fringe] > 0.5).sum() > 1000  # the legacy hull pasted the source over the hair


# ----------------------------------------------------------------------------- occlusion


def _occluded(target: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``target`` with a dark glasses-like bar across the eyes and a dark-skinned hand-coloured
    block over one cheek and the mouth corner, and where each is (bool)."""
    scale = mesh.face_scale(points)
    out = target.copy()
    eye_y = points[36:48, 1].mean()
    x0, x1 = points[0, 0] + 0.05 * scale, points[16, 0] - 0.05 * scale
    bar = np.zeros(target.shape[:2], bool)
    bar[int(eye_y - 0.09 * scale) : int(eye_y + 0.09 * scale), int(x0) : int(x1)] = True
    out[bar] = (28, 26, 30)
    hand = np.zeros(target.shape[:2], bool)
    cx, cy = points[54]
    hand[int(cy - 0.25 * scale) : int(cy + 0.15 * scale), int(cx - 0.1 * scale) : int(points[14, 0])] = True
    rng = np.random.default_rng(7)
    skin = np.array([112, 70, 52], np.float32) + rng.normal(0, 4, target.shape).astype(np.float32)
    out[hand] = np.clip(skin[hand], 0, 255).astype(np.uint8)
    return out, {"glasses bar": bar, "hand": hand}


def test_occluders_stay_in_front(
    shared_data: Path, swapper: LandmarkSwapper, legacy: LandmarkSwapper
) -> None:
    source, plain = ffhq(shared_data, SOURCE), ffhq(shared_data, TARGET)
    target, parts = _occluded(plain, _points(plain))
    new, _ = _composite(swapper, source, target)
    old, _ = _composite(legacy, source, target)
    core = np.ones((5, 5), np.uint8)
    for name, where in parts.items():
        inner = cv2.erode(where.astype(np.uint8), core) > 0  # the occluder, less its outline
        kept = np.abs(new.image.astype(int) - target.astype(int))[inner].mean()
        ghosted = np.abs(old.image.astype(int) - target.astype(int))[inner].mean()
        assert kept < 6.0, (name, kept)
        assert ghosted > 20.0, (name, ghosted)  # the legacy engine swapped over it
    # The rest of the face is still swapped.
    points = _points(target)
    nose = (
        slice(int(points[30, 1]) - 3, int(points[30, 1]) + 3),
        slice(int(points[30, 0]) - 3, int(points[30, 0]) + 3),
    )
    assert np.abs(new.image[nose].astype(int) - target[nose].astype(int)).mean() > 3.0


# ----------------------------------------------------------------------------- pose


def test_yaw_follows_the_nose_and_flips_with_the_image(shared_data: Path) -> None:
    frontal = _points(ffhq(shared_data, SOURCE))
    assert abs(pose.yaw(frontal)) < 10
    turned = frontal.copy()
    axis = frontal[45] - frontal[36]
    turned[27:36] += 0.6 * axis  # the nose moved towards the right cheek: a head turned right
    assert pose.yaw(turned) > pose.MAX_YAW_DIFFERENCE + 5
    with pytest.raises(PoseMismatch):
        pose.check(pose.decide(frontal, turned))
    decision = pose.check(pose.decide(frontal, frontal))
    assert not decision.mirror and decision.difference == 0.0
    side = ffhq(shared_data, 121)  # a face turned far to the image's left
    mirrored = np.ascontiguousarray(side[:, ::-1])
    a, b = pose.yaw(_points(side)), pose.yaw(_points(mirrored))
    assert a < -40 and abs(a + b) < 5


def test_a_strongly_turned_target_is_refused(
    shared_data: Path, swapper: LandmarkSwapper, legacy: LandmarkSwapper, spec: WatermarkSpec
) -> None:
    source, side = ffhq(shared_data, SOURCE), ffhq(shared_data, 121)
    with pytest.raises(PoseMismatch) as err:
        swapper.swap_image(source, side, watermark=spec)
    assert isinstance(err.value, SwapError)
    assert err.value.code == "pose_mismatch" == err.value.to_dict()["code"]
    assert "yaw" in err.value.message and "mirrored" in err.value.message
    # What refuses it is the pose check: the legacy pipeline swaps the pair (into a smear).
    assert legacy.swap_image(source, side, watermark=spec).swapped
    # A looser limit lets it through.
    loose = LandmarkSwapper(SwapSettings(max_yaw_difference=90.0))
    assert loose.swap_image(source, side, watermark=spec).swapped


def test_opposite_turns_are_swapped_with_the_source_mirrored(
    shared_data: Path, swapper: LandmarkSwapper, spec: WatermarkSpec
) -> None:
    source, target = ffhq(shared_data, 24), ffhq(shared_data, 120)  # turned left / turned right
    result = swapper.swap_image(source, target, watermark=spec)
    assert result.swapped and result.mirrored
    plain = swapper.swap_image(ffhq(shared_data, SOURCE), ffhq(shared_data, TARGET), watermark=spec)
    assert not plain.mirrored
    decoded = np.asarray(Image.open(io.BytesIO(_jpeg(result.image))).convert("RGB"))
    assert watermark.recover(decoded, keys=[KEY]).payload == spec.payload


def test_a_clip_whose_face_is_always_turned_away_is_refused(
    shared_data: Path, swapper: LandmarkSwapper, spec: WatermarkSpec, tmp_path: Path
) -> None:
    face = cv2.resize(ffhq(shared_data, 121), (256, 256), interpolation=cv2.INTER_AREA)
    clip = write_mp4v(tmp_path / "side.mp4", moving_clip(face, 4, 10.0, noise=1.0), 10.0)
    out = tmp_path / "out.mp4"
    with pytest.raises(PoseMismatch):
        swapper.swap_video_file(ffhq(shared_data, SOURCE), clip, out, watermark=spec)
    assert not out.exists()
    frames = list(
        swapper.swap_frames(ffhq(shared_data, SOURCE), moving_clip(face, 2, 10.0, 1.0), watermark=spec)
    )
    assert all(f.pose_refused and not f.swapped for f in frames)
    assert all(watermark.recover(f.image, keys=[KEY]).payload == spec.payload for f in frames)


# ----------------------------------------------------------------------------- grain


def test_the_swap_is_not_smoother_than_a_grainy_frame(
    shared_data: Path, swapper: LandmarkSwapper, legacy: LandmarkSwapper
) -> None:
    source = ffhq(shared_data, SOURCE)
    rng = np.random.default_rng(3)
    clean = ffhq(shared_data, TARGET).astype(np.float32)
    target = np.clip(clean + rng.normal(0, 7, clean.shape), 0, 255).astype(np.uint8)  # sensor noise
    face = _polygon(target.shape, mask.contour(mesh.dense(_points(target))))
    frame = grain.detail_sigma(target, face)
    new, alpha = _composite(swapper, source, target)
    old, old_alpha = _composite(legacy, source, target)
    swapped = grain.detail_sigma(new.image, alpha > 0.95)
    smooth = grain.detail_sigma(old.image, old_alpha > 0.95)
    assert frame is not None and swapped is not None and smooth is not None
    assert swapped > 0.8 * frame, (swapped, frame)
    assert smooth < 0.8 * frame, (smooth, frame)  # what the legacy engine left: a smooth patch


# ----------------------------------------------------------------------------- watermark


def _jpeg(rgb: np.ndarray, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def test_new_outputs_carry_the_watermark(
    shared_data: Path, swapper: LandmarkSwapper, spec: WatermarkSpec
) -> None:
    plain = ffhq(shared_data, TARGET)
    occluded, _ = _occluded(plain, _points(plain))
    hd = np.zeros((1080, 1920, 3), np.uint8)
    hd[:, 420:1500] = cv2.resize(ffhq(shared_data, 11), (1080, 1080), interpolation=cv2.INTER_CUBIC)
    for target in (plain, occluded, hd):
        result = swapper.swap_image(ffhq(shared_data, SOURCE), target, watermark=spec)
        assert result.swapped and result.payload == spec.payload_bytes
        decoded = np.asarray(Image.open(io.BytesIO(_jpeg(result.image))).convert("RGB"))
        found = watermark.recover(decoded, keys=[KEY])
        assert found.found and found.payload == spec.payload
        assert not watermark.recover(target, keys=[KEY]).found  # the mark came from the engine
