"""The SimSwap pipeline around the networks: alignment, paste-back, end-to-end swaps on real photos.

The networks carry random weights (the official ones are not available here), so these tests
check geometry, plumbing and watermarking, not the look of the swap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import watermark
from detection.faces import FaceDetector
from generation.simswap import InvalidImage, NoFaceFound, SimSwapEngine
from generation.simswap.alignment import (
    alignment_matrix,
    similarity_transform,
    templates,
    transform_points,
    warp_to_crop,
)
from generation.simswap.blending import face_mask, paste_back
from tests.generation.simswap_media import ffhq_faces, random_arcface, random_generator

KEY = b"simswap-test-watermark-key-5be1"


@pytest.fixture(scope="module")
def engine() -> SimSwapEngine:
    return SimSwapEngine(random_generator(224, seed=4), random_arcface(seed=5), detector=FaceDetector())


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> list[np.ndarray]:
    return ffhq_faces(shared_data, 3)


def _crop_footprint(shape: tuple[int, ...], matrix: np.ndarray, size: int) -> tuple[int, int, int, int]:
    inverse = np.vstack([matrix, [0, 0, 1]])
    corners = transform_points(
        np.array([[0, 0], [size, 0], [0, size], [size, size]], float), np.linalg.inv(inverse)[:2]
    )
    x0, y0 = np.floor(corners.min(0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
    return max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])


@pytest.mark.parametrize(("size", "pose"), [(224, 0), (224, 2), (224, 4), (512, 0)])
def test_alignment_undoes_a_known_similarity(size: int, pose: int) -> None:
    template = templates(size)[pose]
    angle, scale, shift = np.radians(17.0), 1.9, np.array([311.0, -42.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = template @ rotation.T + shift  # the template's face, moved into some photo
    matrix = alignment_matrix(landmarks, size)
    np.testing.assert_allclose(transform_points(landmarks, matrix), template, atol=1e-6)
    # Least squares, not an exact fit: noisy points still map close to the template.
    noisy = landmarks + np.random.default_rng(0).normal(0, 0.5, landmarks.shape)
    residual = transform_points(noisy, similarity_transform(noisy, template)) - template
    assert np.abs(residual).max() < 2.0


def test_detected_landmarks_align_onto_the_template(engine: SimSwapEngine, photos: list[np.ndarray]) -> None:
    face = engine.detector.detect(photos[0])[0]
    crop, matrix = engine.align(photos[0], face)
    assert crop.shape == (224, 224, 3)
    aligned = transform_points(np.array(face.landmarks), matrix)
    best = min(np.linalg.norm(aligned - t, axis=1).max() for t in templates(224))
    assert best < 224 * 0.05  # every landmark within 5 % of the crop of its template point


def test_pasting_back_an_unchanged_crop_restores_the_frame(
    engine: SimSwapEngine, photos: list[np.ndarray]
) -> None:
    frame = photos[1]
    face = engine.detector.detect(frame)[0]
    crop, matrix = engine.align(frame, face)
    mask = face_mask(transform_points(np.array(face.landmarks), matrix), 224)
    assert mask.max() > 0.99 and mask[0].max() == 0 and mask[:, -1].max() == 0  # soft inside, 0 at the edge
    restored = paste_back(frame, crop, matrix, mask)
    diff = np.abs(restored.astype(int) - frame.astype(int))
    assert diff.mean() < 1.0  # only resampling blur, nothing moved
    x0, y0, x1, y1 = _crop_footprint(frame.shape, matrix, 224)
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert diff[outside].max() == 0


def test_swap_changes_the_face_only_and_returns_unwatermarked(
    engine: SimSwapEngine, photos: list[np.ndarray]
) -> None:
    source, target = photos[0], photos[1]
    result = engine.swap(source, target)
    assert result.image.shape == target.shape and result.image.dtype == np.uint8
    assert not result.watermarked and result.size == 224 and len(result.target_faces) == 1
    assert set(result.timings_ms) >= {"detect", "generator", "identity"}
    face = result.target_faces[0]
    _, matrix = engine.align(target, face)
    x0, y0, x1, y1 = _crop_footprint(target.shape, matrix, 224)
    changed = np.abs(result.image.astype(int) - target.astype(int)).sum(2) > 0
    untouched = np.ones_like(changed)
    untouched[y0:y1, x0:x1] = False
    assert not changed[untouched].any()
    nx, ny = (int(round(v)) for v in face.landmarks[2])  # the nose: deep inside the face mask
    assert changed[ny - 10 : ny + 10, nx - 10 : nx + 10].mean() > 0.9
    assert not watermark.recover(result.image, keys=[KEY]).found


def test_swap_applies_the_watermark_callback_last(engine: SimSwapEngine, photos: list[np.ndarray]) -> None:
    identity = engine.identity(photos[0])
    plain = engine.swap_identity(identity, photos[1])
    marked = engine.swap_identity(
        identity, photos[1], watermark=lambda rgb: watermark.embed(rgb, payload=424242, key=KEY)
    )
    assert marked.watermarked and "watermark" in marked.timings_ms
    found = watermark.recover(marked.image, keys=[KEY])
    assert found.found and found.payload == 424242

    class Spec:  # the shape of the landmark engine's WatermarkSpec: an object with mark(rgb)
        def mark(self, rgb: np.ndarray) -> np.ndarray:
            return watermark.embed(rgb, payload=7, key=KEY)

    by_spec = engine.swap_identity(identity, photos[1], watermark=Spec())
    assert by_spec.watermarked and watermark.recover(by_spec.image, keys=[KEY]).payload == 7
    # Same swap underneath: the mark is a small change on the whole frame.
    assert np.abs(marked.image.astype(int) - plain.image.astype(int)).mean() < 3


def test_the_source_identity_drives_the_result(engine: SimSwapEngine, photos: list[np.ndarray]) -> None:
    first, second = engine.identity(photos[0]), engine.identity(photos[2])
    assert abs(float(first.embedding.norm()) - 1.0) < 1e-5
    a = engine.swap_identity(first, photos[1]).image
    b = engine.swap_identity(second, photos[1]).image
    assert np.abs(a.astype(int) - b.astype(int)).max() > 0


def test_all_faces_swaps_every_face(engine: SimSwapEngine, photos: list[np.ndarray]) -> None:
    group = np.hstack([photos[1], photos[2]])  # two people side by side
    identity = engine.identity(photos[0])
    result = engine.swap_identity(identity, group, all_faces=True)
    assert len(result.target_faces) == 2
    changed = np.abs(result.image.astype(int) - group.astype(int)).sum(2) > 0
    assert changed[:, :512].any() and changed[:, 512:].any()
    only_largest = engine.swap_identity(identity, group)
    assert len(only_largest.target_faces) == 1


def test_bad_inputs_are_typed_errors(engine: SimSwapEngine, photos: list[np.ndarray]) -> None:
    blank = np.full((256, 256, 3), 127, np.uint8)
    with pytest.raises(NoFaceFound, match="source image") as no_source:
        engine.swap(blank, photos[1])
    assert no_source.value.code == "no_face_in_source"  # the landmark engine's codes
    identity = engine.identity(photos[0])
    with pytest.raises(NoFaceFound, match="target image") as no_target:
        engine.swap_identity(identity, blank)
    assert no_target.value.code == "no_face_in_target"
    with pytest.raises(InvalidImage):
        engine.swap(photos[0].astype(np.float32), photos[1])
    with pytest.raises(InvalidImage):
        engine.swap_identity(identity, photos[1][..., 0])


def test_512_model_aligns_to_the_ffhq_template(photos: list[np.ndarray]) -> None:
    # The 512 pipeline differs only in its template; its generator runs in the network tests.
    face = FaceDetector().detect(photos[0])[0]
    matrix = alignment_matrix(np.array(face.landmarks), 512)
    crop = warp_to_crop(photos[0], matrix, 512)
    aligned = transform_points(np.array(face.landmarks), matrix)
    assert crop.shape == (512, 512, 3)
    assert np.linalg.norm(aligned - templates(512)[0], axis=1).max() < 512 * 0.05
