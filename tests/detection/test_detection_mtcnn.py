"""Our MTCNN driver: the same faces as facenet-pytorch's own driver, from the same networks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.nn.functional import interpolate

from detection.mtcnn import MTCNN, _AreaSampler


def _reference(rgb: np.ndarray, min_face_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """facenet-pytorch's MTCNN.detect, as the engine used it before (keep_all, no post-processing)."""
    from facenet_pytorch import MTCNN as FacenetMTCNN

    detector = FacenetMTCNN(min_face_size=min_face_size, keep_all=True, post_process=False, device="cpu")
    with torch.inference_mode():
        boxes, probs, points = detector.detect(np.ascontiguousarray(rgb), landmarks=True)
    if boxes is None:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
    return (
        np.asarray(boxes, np.float64),
        np.asarray(probs, np.float64),
        np.asarray(points, np.float64),
    )


def _assert_same_faces(rgb: np.ndarray, min_face_size: int) -> int:
    ref_boxes, ref_scores, ref_points = _reference(rgb, min_face_size)
    ours = MTCNN().detect(rgb, min_face_size)
    assert len(ours.boxes) == len(ref_boxes)
    # Pair faces by position (the two drivers may list them in another order).
    a = np.lexsort((ours.boxes[:, 1], ours.boxes[:, 0]))
    b = np.lexsort((ref_boxes[:, 1], ref_boxes[:, 0]))
    np.testing.assert_allclose(ours.boxes[a], ref_boxes[b], atol=0.01)
    np.testing.assert_allclose(ours.scores[a], ref_scores[b], atol=1e-5)
    np.testing.assert_allclose(ours.landmarks[a], ref_points[b], atol=0.01)
    return len(ref_boxes)


def test_area_sampler_is_torch_area_interpolation() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    sampler = _AreaSampler(rgb)
    image = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
    for size in ((97, 131), (69, 93), (13, 17), (40, 200)):  # down, odd ratios, and up
        expected = interpolate(image, size=size, mode="area")[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(sampler.level(*size), expected, atol=1e-4)
    x0, y0 = np.array([0, 10, 50, 120]), np.array([0, 5, 60, 90])
    x1, y1 = np.array([131, 30, 61, 131]), np.array([97, 70, 66, 97])
    crops = sampler.regions(x0, y0, x1, y1, 24)
    for k in range(len(x0)):
        region = image[:, :, y0[k] : y1[k], x0[k] : x1[k]]
        expected = interpolate(region, size=(24, 24), mode="area")[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(crops[k], expected, atol=1e-4)


def test_matches_facenet_on_the_astronaut(astronaut: np.ndarray) -> None:
    assert _assert_same_faces(astronaut, 20) == 1
    pair = np.ascontiguousarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1))
    assert _assert_same_faces(pair, 40) == 2
    # A tight crop padded with a reflected border (the engine's retry) finds mirrored faces too.
    crop = cv2.resize(astronaut[40:200, 160:300], (160, 160), interpolation=cv2.INTER_AREA)
    padded = cv2.copyMakeBorder(crop, 64, 64, 64, 64, cv2.BORDER_REFLECT_101)
    assert _assert_same_faces(padded, 40) >= 1
    assert _assert_same_faces(np.full((120, 160, 3), 90, np.uint8), 20) == 0


def test_matches_facenet_on_shared_photos(shared_data_dir: Path) -> None:
    """Photos, GAN faces, tight 200 px chips (faces run past the border: clipped crops)."""
    found = 0
    for folder, count in (("faces-real/ffhq-512", 4), ("faces-gan/tpdne-512", 2), ("faces-real/utkface", 6)):
        files = sorted((shared_data_dir / folder).glob("*.jpg"))[:count]
        if not files:
            pytest.skip(f"no JPEGs in {shared_data_dir / folder}")
        for path in files:
            rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            found += _assert_same_faces(rgb, 20)
    assert found >= 12
