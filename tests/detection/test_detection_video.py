"""Video: real files (OpenCV and PyAV/x264), sampling that skips unneeded frames, limits, aggregation."""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from detection import video_reader as video_module
from detection.engine import Detector, VideoResult
from detection.errors import CorruptMedia, UnsupportedMedia, VideoTooLong
from detection.plots import timeline_png
from detection.video import VideoReader, prefetched, sample_frames
from tests.detection.fakeme_media import moving_face_frame, write_h264, write_video


def test_reader_samples_at_two_fps(face_video: Path) -> None:
    with VideoReader(face_video, fps=2.0) as reader:
        info = reader.info
        assert (info.width, info.height) == (320, 240)
        assert info.fps == pytest.approx(10.0) and info.fps_reliable
        assert info.frame_count == 30 and info.duration_s == pytest.approx(3.0)
        assert reader.expected_samples == 6
        samples = list(reader.frames())
    assert [i for i, _, _ in samples] == [0, 5, 10, 15, 20, 25]
    assert [t for _, t, _ in samples] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    rgb = samples[0][2]
    assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
    assert rgb[5, 300, 2] > rgb[5, 300, 0]  # the blue-ish background came back as RGB, not BGR


def test_rates_and_caps(face_video: Path) -> None:
    every = list(sample_frames(face_video, fps=30.0))  # faster than the video: every frame once
    assert [i for i, _, _ in every] == list(range(30))
    with VideoReader(face_video, fps=2.0, max_frames=3) as reader:  # the cap spreads samples over 3 s
        assert [i for i, _, _ in reader.frames()] == [0, 10, 20]
        assert not reader.truncated
    with pytest.raises(VideoTooLong) as err:
        VideoReader(face_video, max_seconds=2.0)
    assert err.value.code == "video_too_long"


def test_broken_fps_uses_frame_timestamps(face_video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The container reports a nonsense frame rate.
    monkeypatch.setattr(video_module, "_declared_fps", lambda stream: math.nan)
    with VideoReader(face_video, fps=2.0) as reader:
        assert not reader.info.fps_reliable and reader.info.duration_s is None
        samples = list(reader.frames())
    # Timestamps come from the stream (10 fps), so sampling stays at 2 per second of video.
    assert [i for i, _, _ in samples] == [0, 5, 10, 15, 20, 25]


def test_analyze_video_timeline(detector: Detector, face_video: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = detector.analyze_video(face_video, progress=lambda done, total: calls.append((done, total)))
    assert isinstance(result, VideoResult)
    assert result.frames_sampled == 6 and len(result.frames) == 6
    assert result.fps == pytest.approx(10.0) and result.duration_s == pytest.approx(3.0)
    assert [f.timestamp for f in result.frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    assert calls == [(i, 6) for i in range(1, 7)]
    assert result.frames_with_faces >= 5  # the sliding face is found in (nearly) every sample
    scored = [f.probability for f in result.frames if f.probability is not None]
    assert all(0.0 <= p <= 1.0 for p in scored)
    for frame in result.frames:
        if frame.faces:
            assert frame.probability == max(face.probability for face in frame.faces)
    # The face slides left to right.
    centres = [(f.faces[0].box[0] + f.faces[0].box[2]) / 2 for f in result.frames if f.faces]
    assert centres == sorted(centres)
    assert result.aggregation == "mean"
    assert result.aggregate["mean"] == pytest.approx(float(np.mean(scored)))
    assert result.probability == result.aggregate["mean"]
    assert result.verdict == ("fake" if result.probability >= detector.threshold else "real")
    data = result.to_dict()
    assert data["kind"] == "video" and len(data["frames"]) == 6
    png = timeline_png(result)
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_video_bytes_and_dispatch(detector: Detector, face_video: Path) -> None:
    result = detector.analyze(face_video.read_bytes())
    assert isinstance(result, VideoResult) and result.frames_sampled == 6


def test_frames_without_faces(detector: Detector, tmp_path: Path, face_sprite: np.ndarray) -> None:
    """A face only in the first second: later frames are recorded with no probability."""
    blank = np.full((240, 320, 3), 90, np.uint8)
    path = write_video(
        tmp_path / "half.avi",
        lambda i: moving_face_frame(face_sprite, i, 10) if i < 10 else blank,
        20,
        fps=10.0,
        fourcc="MJPG",
    )
    result = detector.analyze(path)
    assert isinstance(result, VideoResult) and result.frames_sampled == 4
    assert [f.probability is None for f in result.frames] == [False, False, True, True]
    assert result.verdict != "not_applicable"
    assert Image.open(io.BytesIO(timeline_png(result))).format == "PNG"

    empty = write_video(tmp_path / "nobody.mp4", lambda i: blank, 10, fps=10.0)
    nobody = detector.analyze(empty)
    assert nobody.verdict == "not_applicable" and nobody.probability is None
    assert nobody.aggregate == {"mean": None, "confident": None, "track_topk": None}
    assert Image.open(io.BytesIO(timeline_png(nobody))).format == "PNG"


def test_truncated_video_is_corrupt(detector: Detector, face_video: Path, tmp_path: Path) -> None:
    data = face_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:200])
    started = time.perf_counter()
    with pytest.raises(CorruptMedia) as err:
        detector.analyze(cut)
    assert err.value.code == "corrupt_media"
    assert time.perf_counter() - started < 2.0


def test_image_is_not_a_video(detector: Detector, astronaut_jpeg: bytes) -> None:
    with pytest.raises(UnsupportedMedia):
        detector.analyze_video(astronaut_jpeg)


def test_shared_dfdc_clip(detector: Detector, shared_data_dir: Path) -> None:
    clip = shared_data_dir / "video" / "dfdc-real-lynaeydofd.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    result = detector.analyze(clip)
    assert isinstance(result, VideoResult)
    expected = math.ceil(result.duration_s * 2.0 - 1e-9)
    assert abs(result.frames_sampled - expected) <= 1
    assert result.frames_with_faces >= 0.8 * result.frames_sampled
    assert result.verdict in ("fake", "real")


@pytest.mark.parametrize(("suffix", "fourcc"), [(".webm", "VP80"), (".mov", "mp4v"), (".avi", "MJPG")])
def test_containers(
    detector: Detector, tmp_path: Path, face_sprite: np.ndarray, suffix: str, fourcc: str
) -> None:
    path = write_video(
        tmp_path / f"clip{suffix}", lambda i: moving_face_frame(face_sprite, i, 10), 10, fourcc=fourcc
    )
    result = detector.analyze(path)
    assert isinstance(result, VideoResult)
    assert [f.timestamp for f in result.frames] == pytest.approx([0.0, 0.5])
    assert result.frames_with_faces == 2


def _all_frames_rgb(path: Path) -> list[np.ndarray]:
    """Every frame, decoded by OpenCV's FFmpeg build (an independent reference decoder)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def test_h264_b_frames_skip_only_unneeded_frames(tmp_path: Path, face_sprite: np.ndarray) -> None:
    """With B-frames, frames that are neither samples nor references are not decoded, and the
    samples are exactly the frames, with exactly the pixels, that decoding everything gives."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 40, (240, 320, 3), dtype=np.uint8)

    def frame_at(i: int) -> np.ndarray:
        return cv2.add(moving_face_frame(face_sprite, i, 60), np.roll(noise, 3 * i, axis=1))

    path = write_h264(tmp_path / "bframes.mp4", frame_at, 60, fps=30)
    every = _all_frames_rgb(path)
    assert len(every) == 60
    with VideoReader(path, fps=2.0) as reader:
        assert reader.info.fps == pytest.approx(30.0) and reader.info.frame_count == 60
        samples = list(reader.frames())
        decoded = reader.frames_decoded
    assert [i for i, _, _ in samples] == [0, 15, 30, 45]
    assert [t for _, t, _ in samples] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    for index, _, rgb in samples:
        assert np.array_equal(rgb, every[index])
    assert decoded < 50  # about a third of the frames are non-reference B-frames, never decoded
    with VideoReader(path, fps=30.0) as reader:  # every frame wanted: nothing may be skipped
        all_samples = list(reader.frames())
    assert [i for i, _, _ in all_samples] == list(range(60))
    assert all(np.array_equal(rgb, every[i]) for i, _, rgb in all_samples)


def test_prefetching_changes_nothing(detector: Detector, face_video: Path) -> None:
    def frames_of(result: VideoResult) -> list[dict[str, object]]:
        return result.to_dict()["frames"]  # type: ignore[return-value]

    background = detector.analyze_video(face_video)
    detector.prefetch = 0
    try:
        inline = detector.analyze_video(face_video)
    finally:
        detector.prefetch = 2
    assert frames_of(background) == frames_of(inline)
    assert background.probability == inline.probability


def test_prefetched_forwards_errors_and_stops_when_closed() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise CorruptMedia("broken in the middle")

    got: list[int] = []
    with pytest.raises(CorruptMedia):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]

    finished = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            finished.set()

    stream = prefetched(endless(), depth=2)
    assert next(stream) == 0
    stream.close()  # joins the producer, which closes the source
    assert finished.is_set()
    assert not [t for t in threading.enumerate() if t.name == "fakeme-video-decode"]


def test_damaged_h264_gives_results_or_a_typed_error(tmp_path: Path, face_sprite: np.ndarray) -> None:
    path = write_h264(tmp_path / "clip.mp4", lambda i: moving_face_frame(face_sprite, i, 30), 30, fps=10)
    data = path.read_bytes()
    # Cut short (the index is at the front): the frames before the cut are still sampled.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 17 // 20])
    assert [i for i, _, _ in sample_frames(cut, fps=2.0)][:2] == [0, 5]
    # Garbage written over the middle: concealed frames, or a typed error, never a decoder exception.
    damaged = bytearray(data)
    rng = np.random.default_rng(3)
    for start in rng.integers(len(data) // 3, len(data) - 64, 12):
        damaged[start : start + 48] = rng.integers(0, 256, 48, dtype=np.uint8).tobytes()
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    try:
        samples = list(sample_frames(tmp_path / "damaged.mp4", fps=2.0))
    except CorruptMedia:
        return
    assert 1 <= len(samples) <= 6
    assert all(rgb.shape == (240, 320, 3) for _, _, rgb in samples)


def test_models_run_single_threaded_beside_the_decoder(detector: Detector, face_video: Path) -> None:
    """While frames decode in the background the models get one torch thread; the count is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen: list[int] = []
        detector.analyze_video(face_video, progress=lambda done, total: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {detector.video_threads}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
