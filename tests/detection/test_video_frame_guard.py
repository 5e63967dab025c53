"""Issue 21: a video's header proves nothing about its later frames. An MJPEG AVI whose header and
first frames are small and whose later frames are far larger must be refused (``image_too_large``)
by every path that decodes video, before the large frame is converted, and without the decoder
allocating it. The limits are lowered here so that a 2000×2000 frame (a real JPEG, a few kB) is over
them: the test stays small in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import watermark
from detection.engine import Detector
from detection.errors import ImageTooLarge
from detection.video import VideoReader, check_video, read_frame, sample_frames
from generation.landmark import LandmarkSwapper, WatermarkSpec
from tests.corpus.bad_inputs import encode, mjpeg_avi, picture

LIMIT = 1_000_000  # pixels; the large frames are 2000×2000 = 4,000,000
SMALL_FRAMES = 3


@pytest.fixture(scope="module")
def growing_avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    small = encode(picture(160, 136, seed=5), "JPEG", quality=85)
    large = encode(np.full((2000, 2000, 3), 90, np.uint8), "JPEG", quality=60)
    path = tmp_path_factory.mktemp("frame-guard") / "growing.avi"
    path.write_bytes(mjpeg_avi([small] * SMALL_FRAMES + [large] * 3 + [small] * 2, 160, 136, fps=5))
    return path


def test_the_file_is_what_it_claims(growing_avi: Path) -> None:
    """Without a limit the file decodes: small frames, then 2000×2000 ones (the header says 160×136)."""
    with VideoReader(growing_avi, fps=5.0, max_pixels=50_000_000) as reader:
        assert (reader.info.width, reader.info.height) == (160, 136)
        shapes = [rgb.shape[:2] for _, _, rgb in reader.frames()]
    assert shapes[:SMALL_FRAMES] == [(136, 160)] * SMALL_FRAMES and (2000, 2000) in shapes


def test_sampling_refuses_the_large_frame_before_the_decoder_allocates_it(growing_avi: Path) -> None:
    with VideoReader(growing_avi, fps=5.0, max_pixels=LIMIT) as reader:
        yielded = []
        with pytest.raises(ImageTooLarge) as raised:
            for _, _, rgb in reader.frames():
                yielded.append(rgb.shape)
        assert raised.value.code == "image_too_large"
        assert yielded == [(136, 160, 3)] * SMALL_FRAMES
        assert reader.frames_decoded == SMALL_FRAMES  # the decoder refused it: no 2000×2000 picture made


def test_admission_check_reads_every_frame_header(growing_avi: Path) -> None:
    """The intake check (queued scans, reports, known fakes) decodes one frame, then reads the rest
    through the decoder's headers only: the later frame's size is refused at once."""
    with pytest.raises(ImageTooLarge):
        check_video(growing_avi, max_pixels=LIMIT)
    assert check_video(growing_avi, max_pixels=50_000_000).width == 160


def test_every_frame_and_single_frames_are_guarded(growing_avi: Path) -> None:
    with VideoReader(growing_avi, max_pixels=LIMIT) as reader, pytest.raises(ImageTooLarge):
        list(reader.every_frame())
    assert read_frame(growing_avi, 0, max_pixels=LIMIT).shape == (136, 160, 3)  # a thumbnail
    with pytest.raises(ImageTooLarge):
        read_frame(growing_avi, SMALL_FRAMES + 1, max_pixels=LIMIT)  # the console's evidence frame
    with pytest.raises(ImageTooLarge):
        list(sample_frames(growing_avi, fps=5.0, max_pixels=LIMIT))


def test_scan_worker_fails_with_a_stable_code(weights_path: Path, growing_avi: Path) -> None:
    """The scan worker's decode (``Detector.analyze_video``, what ``moderation.scan_process`` runs)."""
    limited = Detector(weights_path, fps=5.0, max_pixels=LIMIT)
    with pytest.raises(ImageTooLarge):
        limited.analyze_video(growing_avi)


def test_watermark_tool_reports_the_decoder_code(growing_avi: Path) -> None:
    key = b"frame-guard-watermark-key-0123456789"
    with pytest.raises(watermark.UnreadableMedia) as raised:
        watermark.recover_video_file(growing_avi, [key], fps=5.0, max_pixels=LIMIT)
    assert raised.value.detail_code == "image_too_large"


def test_generation_video_path_refuses_the_large_frame(
    growing_avi: Path, astronaut: np.ndarray, tmp_path: Path
) -> None:
    spec = WatermarkSpec(payload=7, key=b"frame-guard-watermark-key-0123456789")
    out = tmp_path / "out.mp4"
    with pytest.raises(ImageTooLarge):
        LandmarkSwapper().swap_video_file(astronaut, growing_avi, out, watermark=spec, max_pixels=LIMIT)
    assert not out.exists()  # nothing half-written
