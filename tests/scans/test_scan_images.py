"""Synchronous image scans: verdicts from the real detector, the fake hashtag, observe-only, storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from tests.support.scans import PlatformFactory, stored_files, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def post_image(client: APIClient, data: bytes, **fields: object) -> dict:
    response = client.post(SCANS, {"media": upload("photo.jpg", data), **fields}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_face_photo_is_scanned_synchronously(api: APIClient, face_jpeg: bytes, media_root: Path) -> None:
    body = post_image(api, face_jpeg, external_id="post-1", author_id="user-9", hashtags=["#moon", "#nasa"])

    assert body["status"] == "completed" and body["mode"] == "sync"
    assert body["verdict"] in ("fake", "real")
    assert 0.0 <= body["probability"] <= 1.0
    assert body["decided_by"] == "model"
    assert body["external_id"] == "post-1" and body["author_id"] == "user-9"
    media = body["media"][0]
    assert media["kind"] == "image" and media["format"] == "jpeg"
    assert len(media["result"]["faces"]) == 1
    assert media["result"]["faces"][0]["probability"] == pytest.approx(body["probability"], abs=1e-6)
    assert len(media["sha256"]) == 64 and len(media["pdq"]) == 64
    assert body["model"]["name"] and body["model"]["version"]
    assert body["model"]["threshold"] == body["model"]["model_threshold"]  # no platform override
    assert body["watermark"] == media["watermark"]  # every scan looks for FakeME's own mark
    assert media["watermark"]["checked"] is True and media["watermark"]["found"] is False
    assert body["known_deepfake_matches"] == []
    assert body["progress"]["percent"] == 100
    assert set(body["timings_ms"]) >= {"analyze", "total"}

    scan = Scan.objects.get(pk=body["id"])
    assert (scan.verdict, scan.external_id, scan.author_id) == (body["verdict"], "post-1", "user-9")
    assert scan.model_name and scan.model_version and scan.decided_by == "model"
    row = ScanMedia.objects.get(scan=scan)
    assert row.sha256 == media["sha256"] and row.pdq == media["pdq"]
    # Stored under a random, non-guessable key, not under the upload's name.
    assert "photo" not in row.storage_key and len(Path(row.storage_key).stem) == 64
    assert stored_files(media_root) == [media_root / row.storage_key]


def test_non_face_photo_is_not_applicable_and_hashtags_untouched(
    api: APIClient, platform: Platform, no_face_jpeg: bytes
) -> None:
    platform.threshold = 0.0  # even a platform that flags everything cannot call a face-less photo fake
    platform.save()
    tags = ["#coffee", "#deepfake-free"]
    body = post_image(api, no_face_jpeg, hashtags=tags)
    assert body["verdict"] == "not_applicable"
    assert body["probability"] is None
    assert body["media"][0]["result"]["faces"] == []
    assert body["hashtags"] == tags and body["tagged"] is False


@pytest.mark.parametrize(
    "tags_in, tags_out",
    [
        (["#moon"], ["#moon", "#Deepfake"]),
        (["#moon", "#deepfake"], ["#moon", "#deepfake"]),  # already there in another case: not again
        (["#DEEPFAKE", "#moon", "#Deepfake"], ["#DEEPFAKE", "#moon"]),  # never twice
        ([], ["#Deepfake"]),
    ],
)
def test_fake_verdict_adds_the_tag_exactly_once(
    api: APIClient, platform: Platform, face_jpeg: bytes, tags_in: list[str], tags_out: list[str]
) -> None:
    platform.threshold = 0.0  # every face is fake at threshold 0: forces the verdict with the real model
    platform.save()
    body = post_image(api, face_jpeg, hashtags=tags_in)
    assert body["verdict"] == "fake" and body["decided_by"] == "model"
    assert body["reasons"] == ["classifier"]
    assert body["tagged"] is True
    assert body["hashtags"] == tags_out
    assert body["hashtags_in"] == tags_in
    assert body["model"]["threshold"] == 0.0


def test_platform_hashtag_is_configurable(api: APIClient, platform: Platform, face_jpeg: bytes) -> None:
    platform.threshold, platform.fake_hashtag = 0.0, "#AI생성"
    platform.save()
    assert post_image(api, face_jpeg, hashtags=["#ai생성"])["hashtags"] == ["#ai생성"]
    assert post_image(api, face_jpeg, hashtags=["#x"])["hashtags"] == ["#x", "#AI생성"]


def test_real_verdict_leaves_hashtags_untouched(api: APIClient, platform: Platform, face_jpeg: bytes) -> None:
    platform.threshold = 1.0  # nothing reaches P(fake) = 1: forces "real"
    platform.save()
    tags = ["#moon", "#Deepfake?", "#space"]
    body = post_image(api, face_jpeg, hashtags=tags)
    assert body["verdict"] == "real"
    assert body["hashtags"] == tags and body["tagged"] is False


def test_observe_only_scores_but_never_tags(api: APIClient, platform: Platform, face_jpeg: bytes) -> None:
    platform.threshold, platform.observe_only = 0.0, True
    platform.save()
    body = post_image(api, face_jpeg, hashtags=["#moon"])
    assert body["verdict"] == "fake" and body["observe_only"] is True
    assert body["tagged"] is False
    assert body["hashtags"] == ["#moon"]
    scan = Scan.objects.get(pk=body["id"])
    assert scan.verdict == "fake" and scan.observe_only and not scan.tagged


def test_several_media_post_is_fake_if_any_is(
    api: APIClient, platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes
) -> None:
    platform.threshold = 0.0
    platform.save()
    response = api.post(
        SCANS,
        {"media": [upload("a.jpg", no_face_jpeg), upload("b.jpg", face_jpeg)], "hashtags": ["#two"]},
        format="multipart",
    )
    body = response.json()
    assert response.status_code == 200
    assert [m["verdict"] for m in body["media"]] == ["not_applicable", "fake"]
    assert body["verdict"] == "fake" and body["hashtags"] == ["#two", "#Deepfake"]


def test_json_body_with_hashtags_as_list(
    api: APIClient, platform: Platform, local_server, face_jpeg: bytes
) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]  # the test server is on loopback
    platform.save()
    local_server.files["/p/1.jpg"] = face_jpeg
    response = api.post(
        SCANS, {"media_urls": [local_server.url("/p/1.jpg")], "hashtags": ["#a"]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["media"][0]["source_url"] == local_server.url("/p/1.jpg")
    assert body["hashtags_in"] == ["#a"]


def test_stored_media_is_served_only_to_its_platform(
    api: APIClient, client_for: Callable[[Platform], APIClient], face_jpeg: bytes
) -> None:
    body = post_image(api, face_jpeg)
    url = f"{SCANS}/{body['id']}/media/0"
    response = api.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == face_jpeg
    assert APIClient().get(url).status_code == 401
    assert client_for(PlatformFactory()).get(url).status_code == 404
    # There is no public URL for media: MEDIA_URL is not routed.
    key = ScanMedia.objects.get(scan_id=body["id"]).storage_key
    assert APIClient().get(f"/media/{key}").status_code == 404
