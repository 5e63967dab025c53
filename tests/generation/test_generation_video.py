"""Video targets: swapped frame by frame up to the frame cap and marked (recovered from the stored
mp4v file by the vote over frames that scans use), progress counted in frames; a clip with no face
fails with a stable code, stores no output and tells the platform (``generation.failed``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

import watermark
from generation.models import Generation
from moderation.core.models import Platform, WebhookDelivery
from moderation.provenance.models import BankEntry
from tests.generation.landmark_media import ffhq, moving_clip, write_mp4v
from tests.support.scans import stored_files, upload
from watermark.ids import generation_id_for_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

GENERATIONS = "/api/v1/generations"
FPS = 10.0


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    return make_platform(webhook_url="http://127.0.0.1:9/hooks", allowed_private_hosts=["127.0.0.1"])


@pytest.fixture
def api(platform: Platform, client_for: Callable[[Platform], APIClient]) -> APIClient:
    return client_for(platform)


def submit_video(api: APIClient, source: bytes, clip: Path) -> Any:
    body = {
        "source": upload("source.jpg", source),
        "target": upload("clip.mp4", clip.read_bytes(), "video/mp4"),
    }
    body |= {"user_id": "user-7", "consent": "Recorded consent of both people (ticket 881)."}
    return api.post(GENERATIONS, body, format="multipart")


def test_a_video_target_is_swapped_up_to_the_frame_cap_and_every_frame_is_marked(
    api: APIClient,
    shared_data: Path,
    ffhq_bytes: Callable[[int], bytes],
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.FAKEME_GENERATION = {**settings.FAKEME_GENERATION, "MAX_VIDEO_FRAMES": 6}
    face = cv2.resize(ffhq(shared_data, 4), (256, 256), interpolation=cv2.INTER_AREA)
    clip = write_mp4v(tmp_path / "target.mp4", moving_clip(face, 10, FPS, noise=2.0), FPS)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit_video(api, ffhq_bytes(3), clip)
    assert response.status_code == 202, response.json()
    body = api.get(response["Location"]).json()
    assert body["status"] == "completed", body["error"]
    assert body["target"]["kind"] == "video" and body["output"]["kind"] == "video"
    assert body["progress"] == {"percent": 100, "frames_done": 6, "frames_total": 6}
    assert body["result"]["frames"] == 6 and body["result"]["truncated"] is True
    assert body["result"]["frames_swapped"] >= 5

    download = api.get(body["output"]["url"])
    assert download["Content-Type"] == "video/mp4"
    out = tmp_path / "output.mp4"
    out.write_bytes(b"".join(download.streaming_content))
    capture = cv2.VideoCapture(str(out))
    frames = []
    while (ok := capture.read())[0]:
        frames.append(cv2.cvtColor(ok[1], cv2.COLOR_BGR2RGB))
    capture.release()
    assert len(frames) == 6 and frames[0].shape == (256, 256, 3)
    key = [settings.WATERMARK_KEY]
    found = watermark.recover_video_file(out, key)
    assert found.found and generation_id_for_payload(found.payload) == body["id"]
    entry = BankEntry.objects.get(source=BankEntry.Source.GENERATION)
    assert entry.sha256 == body["output"]["sha256"] and entry.pdq == ""  # videos are matched by SHA-256


def test_a_clip_without_faces_fails_cleanly(
    api: APIClient,
    ffhq_bytes: Callable[[int], bytes],
    tmp_path: Path,
    gen_env: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from skimage import data

    coffee = np.ascontiguousarray(cv2.resize(data.coffee(), (240, 160), interpolation=cv2.INTER_AREA))
    clip = write_mp4v(tmp_path / "coffee.mp4", [coffee] * 5, FPS)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit_video(api, ffhq_bytes(3), clip)
    assert response.status_code == 202
    body = api.get(response["Location"]).json()
    assert body["status"] == "failed" and body["output"] is None
    assert body["error"]["code"] == "no_face_in_target"
    result = api.get(f"{GENERATIONS}/{body['id']}/result")
    assert result.status_code == 409 and result.json()["error"]["code"] == "generation_failed"
    row = Generation.objects.get()
    assert row.output_storage_key == "" and row.completed_at is not None
    assert len(stored_files(gen_env)) == 2  # the inputs only
    assert not BankEntry.objects.exists()
    delivery = WebhookDelivery.objects.get(event_type="generation.failed")
    assert '"code":"no_face_in_target"' in delivery.body
