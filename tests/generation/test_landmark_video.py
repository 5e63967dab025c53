"""Video swaps: smooth landmarks on a moving face, every frame watermarked, typed errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import watermark
from generation.landmark import (
    LandmarkSwapper,
    NoFaceInTarget,
    UnreadableVideo,
    WatermarkRequired,
    WatermarkSpec,
    identity,
)
from tests.generation.landmark_media import KEY, ffhq, moving_clip, read_video, trajectory, write_mp4v

FPS = 25.0
FRAMES = 40


@pytest.fixture(scope="module")
def clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A face moving smoothly with fresh noise each frame, written with OpenCV's mp4v."""
    frames = moving_clip(ffhq(shared_data, 11), FRAMES, FPS, noise=4.0)
    return write_mp4v(tmp_path_factory.mktemp("video") / "moving.mp4", frames, FPS)


@pytest.fixture(scope="module")
def spec() -> WatermarkSpec:
    return WatermarkSpec(payload=77_001, key=KEY)


def _jitter(track: np.ndarray) -> float:
    """Mean second difference of the points (pixels per frame²): frame-to-frame shake that the
    smooth motion of the clip does not explain (its own second difference is < 0.2 px)."""
    steady = track - trajectory(len(track), FPS)[:, None, :]
    return float(np.abs(steady[2:] - 2 * steady[1:-1] + steady[:-2]).mean())


def test_smoothing_steadies_the_warped_landmarks(shared_data: Path, clip: Path, spec) -> None:
    frames = read_video(clip)
    swapper = LandmarkSwapper()
    source = swapper.prepare_source(ffhq(shared_data, 10))
    smooth = list(swapper.swap_frames(source, frames, watermark=spec, fps=FPS))
    raw = list(swapper.swap_frames(source, frames, watermark=spec, fps=FPS, smoothing=None))
    assert all(r.swapped for r in smooth) and all(r.swapped for r in raw)
    warped_smooth = np.stack([r.warped_landmarks for r in smooth])
    warped_raw = np.stack([r.warped_landmarks for r in raw])
    assert _jitter(warped_smooth) < 0.6 * _jitter(warped_raw)
    # Smoothing must not leave the face behind: on average within 2 % of the face's size.
    lag = np.linalg.norm(warped_smooth - warped_raw, axis=2).mean()
    face = np.linalg.norm(warped_raw[:, 27] - warped_raw[:, 8], axis=1).mean()
    assert lag < 0.02 * face


def test_video_file_swap_is_watermarked_and_moves_identity(
    shared_data: Path, clip: Path, spec, tmp_path
) -> None:
    source = ffhq(shared_data, 10)
    out = tmp_path / "swapped.mp4"
    result = LandmarkSwapper().swap_video_file(source, clip, out, watermark=spec)
    assert result.frames == FRAMES and result.frames_swapped == FRAMES
    assert (result.width, result.height) == (512, 512) and result.fps == pytest.approx(FPS)
    frames = read_video(out)
    assert len(frames) == FRAMES
    found = watermark.recover_video_file(out, keys=[KEY])
    assert found.found and found.payload == spec.payload
    original = read_video(clip)[FRAMES // 2]
    d_src, d_orig, d_out = (identity.descriptor(x) for x in (source, original, frames[FRAMES // 2]))
    assert identity.similarity(d_out, d_src) > identity.similarity(d_orig, d_src) + 0.03


def test_faceless_frames_pass_through_marked(shared_data: Path, spec) -> None:
    from skimage import data

    empty = np.ascontiguousarray(cv2.resize(data.coffee(), (512, 512)))
    frames = [ffhq(shared_data, 11), empty, ffhq(shared_data, 11)]
    results = list(
        LandmarkSwapper().swap_frames(ffhq(shared_data, 10), frames, watermark=spec, redetect_every=1)
    )
    assert [r.swapped for r in results] == [True, False, True]
    assert results[1].faces_in_target == 0
    assert watermark.recover(results[1].image, keys=[KEY]).payload == spec.payload


def test_a_cut_to_a_faceless_shot_is_noticed_between_detections(shared_data: Path, spec) -> None:
    """Tracking must not paste the face onto whatever follows a cut: a collapsed phase
    correlation sends the frame to the detector even though no detection was due."""
    from skimage import data

    face, empty = ffhq(shared_data, 11), np.ascontiguousarray(cv2.resize(data.coffee(), (512, 512)))
    frames = [face, face, face, empty, empty, face]
    results = list(
        LandmarkSwapper().swap_frames(ffhq(shared_data, 10), frames, watermark=spec, redetect_every=100)
    )
    assert [r.swapped for r in results] == [True, True, True, False, False, True]


def test_video_errors(shared_data: Path, spec, tmp_path) -> None:
    from skimage import data

    swapper = LandmarkSwapper()
    source = ffhq(shared_data, 10)
    faceless = write_mp4v(tmp_path / "coffee.mp4", [np.ascontiguousarray(data.coffee())] * 5, FPS)
    out = tmp_path / "out.mp4"
    with pytest.raises(NoFaceInTarget) as err:
        swapper.swap_video_file(source, faceless, out, watermark=spec)
    assert err.value.code == "no_face_in_target"
    assert not out.exists()  # nothing half-written is left behind
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(UnreadableVideo):
        swapper.swap_video_file(source, garbage, out, watermark=spec)
    assert not out.exists()
    with pytest.raises(WatermarkRequired):
        swapper.swap_video_file(source, faceless, out, watermark=None)  # type: ignore[arg-type]
    with pytest.raises(WatermarkRequired):
        swapper.swap_frames(source, [source], watermark=None)  # type: ignore[arg-type]
