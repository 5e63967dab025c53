"""Video: every frame marked, an MPEG-4 re-encode, recovery by voting over sampled frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from watermark import InvalidImage, UnreadableMedia, embed_video_frames, recover_from_frames
from watermark.video import recover_video_file

FRAMES, WIDTH, HEIGHT, FPS = 30, 480, 320, 15.0


def _scene(photo: np.ndarray) -> list[np.ndarray]:
    """A slow pan across a photo: every frame differs, as in a real clip."""
    big = cv2.resize(photo, (WIDTH + FRAMES * 4, HEIGHT + FRAMES * 2), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(big[2 * i : 2 * i + HEIGHT, 4 * i : 4 * i + WIDTH]) for i in range(FRAMES)]


def _write(path: Path, frames: list[np.ndarray]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _read(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


@pytest.fixture(scope="module")
def scene(sample_photos: dict[str, np.ndarray]) -> list[np.ndarray]:
    return _scene(sample_photos["coffee_600x400"])


@pytest.fixture(scope="module")
def marked_clip(tmp_path_factory: pytest.TempPathFactory, scene: list[np.ndarray], key: bytes) -> Path:
    marked = list(embed_video_frames(scene, 0x5EED, key))
    assert len(marked) == FRAMES and all(m.shape == scene[0].shape for m in marked)
    return _write(tmp_path_factory.mktemp("video") / "marked.mp4", marked)


def test_reencoded_clip_votes_to_the_payload(marked_clip: Path, key: bytes) -> None:
    decoded = _read(marked_clip)
    assert len(decoded) == FRAMES
    result = recover_from_frames(decoded[::3], key)  # 10 sampled frames
    assert result.found and result.payload == 0x5EED
    assert result.frames == 10


def test_frames_pushed_one_at_a_time_vote_the_same(marked_clip: Path, key: bytes) -> None:
    """FrameVote is what a decoder that is reading the clip anyway feeds; it stops at max_frames."""
    from watermark import FrameVote

    decoded = _read(marked_clip)
    vote = FrameVote([b"newer-key", key], max_frames=8)
    for frame in decoded:
        vote.add(frame)
    vote.add(np.zeros((64, 64, 3), np.uint8))  # ignored: full (and of another size)
    pushed = vote.result()
    pulled = recover_from_frames(decoded, [b"newer-key", key], max_frames=8)
    assert vote.full and pushed.frames == 8 and pushed.key_index == 1
    assert pushed == pulled and pushed.found and pushed.payload == 0x5EED


def test_a_cut_anywhere_still_carries_it(marked_clip: Path, key: bytes) -> None:
    decoded = _read(marked_clip)
    for start in (0, 11, 24):
        result = recover_from_frames(decoded[start : start + 6], key)
        assert result.found and result.payload == 0x5EED, start


def test_voting_reads_what_single_frames_cannot(marked_clip: Path, key: bytes) -> None:
    """Frames shrunk to 240 × 160 and JPEG-compressed at quality 30: single frames lose the
    mark, the vote over ten of them still reads it (measured: 0-1 of 10 frames alone)."""
    from watermark import attacks, recover

    degraded = [attacks.jpeg(attacks.rescale(f, 0.5), 30) for f in _read(marked_clip)[::3]]
    single = sum(recover(f, key).found for f in degraded)
    result = recover_from_frames(degraded, key)
    print(f"single frames found: {single}/10; vote: {result}")
    assert single <= 3
    assert result.found and result.payload == 0x5EED


def test_video_file_helper(marked_clip: Path, key: bytes) -> None:
    result = recover_video_file(marked_clip, [b"newer-key", key], fps=5.0)
    assert result.found and result.payload == 0x5EED and result.key_index == 1
    assert result.frames is not None and result.frames >= 5


def test_unmarked_clip_and_wrong_key(
    tmp_path: Path, scene: list[np.ndarray], marked_clip: Path, key: bytes
) -> None:
    clean = _read(_write(tmp_path / "clean.mp4", scene))
    assert not recover_from_frames(clean, key).found
    assert not recover_from_frames(_read(marked_clip), b"wrong-key").found


def test_bad_inputs(tmp_path: Path, key: bytes) -> None:
    with pytest.raises(InvalidImage):
        recover_from_frames([], key)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    with pytest.raises(UnreadableMedia) as info:
        recover_video_file(garbage, key)
    assert info.value.detail_code
