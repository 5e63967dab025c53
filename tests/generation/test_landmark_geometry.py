"""The engine's parts on real photos and known transforms: mesh, warp, colour transfer, smoothing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from generation.landmark import LandmarkSmoother, SmoothingSettings, colour, faces, mesh
from generation.landmark.warp import Region, piecewise_affine
from tests.generation.landmark_media import ffhq


@pytest.fixture(scope="module")
def photo_points(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    rgb = ffhq(shared_data, 10)
    boxes = faces.detect(rgb)
    assert len(boxes) == 1
    return rgb, faces.landmarks(rgb, boxes[0])


def test_landmarks_sit_on_the_face(photo_points) -> None:
    rgb, pts = photo_points
    assert pts.shape == (68, 2)
    # iBUG layout on an upright face: eyes above the nose tip above the mouth above the chin,
    # left eye (36-41) left of the right eye (42-47).
    eyes_y, nose_y, mouth_y, chin_y = pts[36:48, 1].mean(), pts[30, 1], pts[48:68, 1].mean(), pts[8, 1]
    assert eyes_y < nose_y < mouth_y < chin_y
    assert pts[36:42, 0].mean() < pts[42:48, 0].mean()


def test_dense_mesh_adds_a_forehead_and_tiles_its_hull(photo_points) -> None:
    _, pts = photo_points
    dense = mesh.dense(pts)
    assert dense.shape == (78, 2)
    forehead = dense[68:]
    assert np.all(forehead[:, 1] < pts[17:27, 1])  # above the brows
    assert forehead[4:6, 1].mean() < forehead[[0, 9], 1].mean()  # an arc: highest in the middle
    tri = mesh.triangles(dense)
    a, b, c = (dense[tri[:, i]].astype(np.float64) for i in range(3))
    areas = 0.5 * np.abs(
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )
    hull = cv2.contourArea(cv2.convexHull(dense))
    assert areas.sum() == pytest.approx(hull, rel=0.01)  # no holes, no overlaps


def test_similarity_fit_recovers_a_known_transform(photo_points) -> None:
    _, pts = photo_points
    angle, scale, shift = np.deg2rad(12.0), 1.3, np.array([40.0, -25.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = pts @ rot.T + shift
    fitted = mesh.similarity_fit(pts, moved)
    assert np.allclose(fitted[:, :2], rot, atol=1e-6) and np.allclose(fitted[:, 2], shift, atol=1e-4)
    # Swap geometry with the source's shape fully adopted lands the inner features on the
    # (aligned) source; with none it is the target.
    assert np.allclose(mesh.swap_geometry(pts, moved, 1.0, 1.0), moved, atol=1e-3)
    assert np.array_equal(mesh.swap_geometry(moved, pts, 0.0, 0.0), pts)


def test_piecewise_affine_matches_a_global_affine_warp(photo_points) -> None:
    """A mesh moved by one affine map must warp exactly like ``cv2.warpAffine`` with that map."""
    rgb, pts = photo_points
    src_mesh = mesh.dense(pts)
    fwd = cv2.getRotationMatrix2D((256.0, 256.0), 8.0, 0.9)
    fwd[:, 2] += (15.0, -10.0)
    dst_mesh = (src_mesh @ fwd[:, :2].T + fwd[:, 2]).astype(np.float32)
    region = Region(0, 0, 512, 512)
    warped, covered = piecewise_affine(rgb, src_mesh, dst_mesh, mesh.triangles(dst_mesh), region)
    expected = cv2.warpAffine(rgb, fwd, (512, 512), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.erode(covered, np.ones((5, 5), np.uint8)) > 0
    assert inside.sum() > 0.2 * 512 * 512
    err = np.abs(warped.astype(int) - expected.astype(int))[inside]
    assert err.mean() < 0.5 and np.percentile(err, 99.9) <= 2


def test_colour_transfer_matches_the_targets_statistics(shared_data: Path) -> None:
    target = ffhq(shared_data, 30)
    tinted = np.clip(target.astype(np.float32) * [0.7, 0.9, 1.3] + [0, 20, -10], 0, 255).astype(np.uint8)
    mask = np.zeros(target.shape[:2], np.uint8)
    mask[150:400, 150:360] = 255

    def lab_stats(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[mask > 0].astype(np.float64)
        return lab.mean(axis=0), lab.std(axis=0)

    fixed = colour.match_lab(tinted, target, mask)
    (m_t, s_t), (m_b, _), (m_f, s_f) = lab_stats(target), lab_stats(tinted), lab_stats(fixed)
    assert np.abs(m_b - m_t).max() > 10  # the tint really moved the colour
    assert np.abs(m_f - m_t).max() < 1.5 and np.allclose(s_f, s_t, rtol=0.1, atol=1.0)


def test_smoother_calms_still_points_and_follows_motion() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(100, 300, (68, 2))
    smoother = LandmarkSmoother(fps=25.0, settings=SmoothingSettings())
    still = [smoother(base + rng.normal(0, 2.0, base.shape), 150.0) for _ in range(50)]
    assert np.std(np.stack(still[10:]) - base) < 0.5 * 2.0
    moved = base + 60.0  # a quick move of 0.4 face sizes
    after = [smoother(moved + rng.normal(0, 2.0, base.shape), 150.0) for _ in range(8)]
    assert np.abs(after[-1] - moved).mean() < 3.0  # caught up within a third of a second
    smoother.reset()
    assert np.array_equal(smoother(base, 150.0), base.astype(np.float32))
