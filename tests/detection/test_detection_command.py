"""``manage.py detect``: line and JSON output, per-file errors, heatmap and timeline files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image
from pytest_django.fixtures import Settings


@pytest.fixture
def configured(settings: Settings, weights_path: Path) -> None:
    """Point the configured weights at the test model (bundled or random)."""
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WEIGHTS": [weights_path]}


@pytest.fixture
def inputs(tmp_path: Path, astronaut_jpeg: bytes, face_video: Path) -> dict[str, Path]:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(astronaut_jpeg)
    return {"photo": photo, "video": face_video}


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("detect", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _assert_png(path: Path) -> None:
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()


@pytest.mark.usefixtures("configured")
def test_lines(inputs: dict[str, Path]) -> None:
    out, err = _run(str(inputs["photo"]), str(inputs["video"]))
    lines = out.strip().splitlines()
    assert len(lines) == 2 and err == ""
    path, verdict, probability, faces, ms = lines[0].split("  ")
    assert path == str(inputs["photo"]) and verdict in ("fake", "real")
    assert 0.0 <= float(probability) <= 1.0 and faces == "faces=1" and ms.endswith("ms")
    video_fields = lines[1].split("  ")
    assert video_fields[0] == str(inputs["video"]) and video_fields[1] in ("fake", "real")
    assert len(video_fields) == 6 and video_fields[3].startswith("faces=")
    assert video_fields[4].startswith("frames=") and video_fields[4].endswith("/6")


@pytest.mark.usefixtures("configured")
def test_json_and_pictures(inputs: dict[str, Path], tmp_path: Path) -> None:
    heat_dir, time_dir = tmp_path / "heat", tmp_path / "timeline"
    out, _ = _run(
        str(inputs["photo"]),
        str(inputs["video"]),
        "--json",
        "--heatmap",
        str(heat_dir),
        "--timeline",
        str(time_dir),
    )
    photo, video = (json.loads(line) for line in out.strip().splitlines())
    assert photo["kind"] == "image" and photo["path"] == str(inputs["photo"])
    assert len(photo["faces"]) == 1 and photo["model"]["threshold"] >= 0
    assert "heatmap_png_base64" not in photo["faces"][0]
    assert photo["files"] == [str(heat_dir / "astronaut.face0.png")]
    _assert_png(heat_dir / "astronaut.face0.png")
    assert video["kind"] == "video" and video["frames_sampled"] == 6
    assert video["aggregation"] == "mean" and set(video["aggregate"]) == {"mean", "confident", "track_topk"}
    assert video["files"] == [str(time_dir / "moving-face.timeline.png")]
    _assert_png(time_dir / "moving-face.timeline.png")


@pytest.mark.usefixtures("configured")
def test_errors_do_not_stop_other_files(inputs: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="2 of 3"):
        call_command("detect", str(empty), str(inputs["photo"]), str(text), stdout=out, stderr=err)
    assert len(out.getvalue().strip().splitlines()) == 1
    assert f"{empty}  error  empty_input" in err.getvalue()
    assert f"{text}  error  unsupported_media_type" in err.getvalue()

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("detect", str(empty), str(tmp_path / "missing.png"), "--json", stdout=out)
    errors = [json.loads(line)["error"]["code"] for line in out.getvalue().strip().splitlines()]
    assert errors == ["empty_input", "unreadable_file"]


def test_missing_weights(settings: Settings, tmp_path: Path, inputs: dict[str, Path]) -> None:
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WEIGHTS": [tmp_path / "absent.safetensors"]}
    with pytest.raises(CommandError, match="model_unavailable"):
        _run(str(inputs["photo"]))
