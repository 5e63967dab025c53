"""The moderators' watermark tool: real marks (current and previous key, image and video) are found
with their payload, confidence and bit errors; clean files are not; bad files give readable messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

import watermark
from tests.detection.fakeme_media import encode

pytestmark = pytest.mark.django_db
PAYLOAD = 0x12_3456_789A
URL = "console:watermark"


def _check(client: Client, name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return client.post(reverse(URL), {"media": SimpleUploadedFile(name, data, content_type=content_type)})


def _fact(body: str, name: str) -> str:
    match = re.search(rf'id="wm-{name}">(.*?)</dd>', body, re.S)
    assert match, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_a_marked_image_is_found_with_its_payload(
    staff_client: Client, astronaut: np.ndarray, settings: Any
) -> None:
    marked = encode(watermark.embed(astronaut, PAYLOAD, settings.WATERMARK_KEY), "JPEG", quality=80)
    response = _check(staff_client, "shared.jpg", marked, "image/jpeg")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Watermark found" in body and "came from FakeME" in body
    assert _fact(body, "found") == "yes"
    assert _fact(body, "payload").startswith(f"{PAYLOAD} (0x123456789a)")
    assert "gen_123456789a" in _fact(body, "payload")
    confidence = float(_fact(body, "confidence").split(" %")[0])
    assert 90.0 <= confidence <= 100.0
    bit_errors = int(_fact(body, "bit-errors").split(" of 172")[0])
    assert 0 <= bit_errors <= 17
    assert "current key" in body


def test_a_mark_made_with_a_previous_key_is_found(
    staff_client: Client, astronaut: np.ndarray, settings: Any
) -> None:
    old = b"console-test-previous-key-7c1e"
    settings.WATERMARK_PREVIOUS_KEYS = [old]
    marked = encode(watermark.embed(astronaut, 77, old), "PNG")
    body = _check(staff_client, "old.png", marked, "image/png").content.decode()
    assert _fact(body, "found") == "yes" and _fact(body, "payload").startswith("77 ")
    assert "previous key #1" in body


def test_a_clean_image_has_no_mark(staff_client: Client, face_jpeg: bytes) -> None:
    response = _check(staff_client, "clean.jpg", face_jpeg, "image/jpeg")
    body = response.content.decode()
    assert response.status_code == 200 and "No watermark" in body
    assert _fact(body, "found") == "no" and 'id="wm-payload"' not in body
    assert "does not prove a file is authentic" in body


def test_a_marked_video_is_found_by_voting_over_frames(
    staff_client: Client, tmp_path: Path, settings: Any
) -> None:
    from skimage import data

    photo = cv2.resize(np.ascontiguousarray(data.coffee()), (600, 400))
    frames = [np.ascontiguousarray(photo[2 * i : 2 * i + 320, 4 * i : 4 * i + 480]) for i in range(30)]
    path = tmp_path / "marked.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (480, 320))
    for frame in watermark.embed_video_frames(frames, PAYLOAD, settings.WATERMARK_KEY):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    body = _check(staff_client, "clip.mp4", path.read_bytes(), "video/mp4").content.decode()
    assert _fact(body, "found") == "yes" and _fact(body, "payload").startswith(str(PAYLOAD))
    assert re.search(r"<dt>Frames voted</dt><dd>\d+</dd>", body)
    assert "video (mp4" in body


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        (
            "notes.txt",
            b"just some text, not a picture",
            415,
            "This file is not an image or video FakeME can read.",
        ),
        ("cut.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, 422, "damaged or truncated"),
        ("tiny.png", "tiny", 422, "too small to carry FakeME's watermark"),
        ("empty.jpg", b"", 400, "The file is empty."),
    ],
)
def test_bad_files_are_readable_messages(
    staff_client: Client, name: str, data: bytes | str, status: int, message: str
) -> None:
    if data == "tiny":
        data = encode(np.full((64, 64, 3), 120, np.uint8), "PNG")
    assert isinstance(data, bytes)
    response = _check(staff_client, name, data)
    assert response.status_code == status
    assert message in response.content.decode().replace("&#x27;", "'")
    assert "Traceback" not in response.content.decode()


def test_no_file_is_a_message(staff_client: Client) -> None:
    response = staff_client.post(reverse(URL), {})
    assert response.status_code == 400 and b"Choose an image or video file to check." in response.content
