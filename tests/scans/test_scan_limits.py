"""Throttling, size limits, content types, bad input: stable error codes and nothing half-written."""

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


def nothing_written(media_root: Path) -> None:
    assert Scan.objects.count() == 0 and ScanMedia.objects.count() == 0
    assert stored_files(media_root) == []


def test_throttling_is_per_platform(platform: Platform, client_for: Callable[[Platform], APIClient]) -> None:
    platform.rate_limit = "3/min"
    platform.save()
    api = client_for(platform)
    assert [api.get(SCANS).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(SCANS)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # The budget is the platform's, shared by its keys; other platforms are unaffected.
    assert client_for(platform).get(SCANS).status_code == 429
    assert client_for(PlatformFactory()).get(SCANS).status_code == 200


def test_oversize_upload_is_413(
    api: APIClient, platform: Platform, face_jpeg: bytes, media_root: Path
) -> None:
    platform.max_upload_bytes = len(face_jpeg) - 1
    platform.save()
    response = api.post(SCANS, {"media": upload("big.jpg", face_jpeg)}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    nothing_written(media_root)


def test_oversize_body_is_refused_from_content_length(
    api: APIClient, platform: Platform, media_root: Path
) -> None:
    platform.max_upload_bytes = 1000
    platform.save()
    body = b"x" * 2_000_000
    response = api.generic("POST", SCANS, body, content_type="multipart/form-data; boundary=zzz")
    assert response.status_code == 413 and response.json()["error"]["code"] == "media_too_large"
    nothing_written(media_root)


def test_wrong_request_content_type_is_415(api: APIClient, media_root: Path) -> None:
    response = api.generic("POST", SCANS, b"hello", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_content_type"
    nothing_written(media_root)


@pytest.mark.parametrize(
    "name, data",
    [
        ("doc.pdf", b"%PDF-1.7\n" + b"0" * 500),
        ("fake.jpg", b"this is not a jpeg at all" * 20),  # the name proves nothing: content is sniffed
        ("song.m4a", b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 200),
    ],
)
def test_wrong_media_type_is_415(api: APIClient, media_root: Path, name: str, data: bytes) -> None:
    response = api.post(SCANS, {"media": upload(name, data, "image/jpeg")}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    nothing_written(media_root)


def test_corrupt_image_is_422_and_nothing_is_written(
    api: APIClient, face_jpeg: bytes, no_face_jpeg: bytes, media_root: Path
) -> None:
    """The second of two media is truncated: the whole request fails, the first is not stored either."""
    truncated = face_jpeg[: len(face_jpeg) // 3]
    response = api.post(
        SCANS,
        {"media": [upload("ok.jpg", no_face_jpeg), upload("bad.jpg", truncated)], "external_id": "x"},
        format="multipart",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "corrupt_media" and error["message"]
    nothing_written(media_root)


def test_storage_failure_leaves_no_orphan_files(
    api: APIClient, face_jpeg: bytes, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database failure after the files were stored deletes them again."""
    from moderation.scans.models import ScanMedia as Model

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Model.objects, "bulk_create", broken)
    client = api
    client.raise_request_exception = False
    response = client.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart")
    assert response.status_code == 500
    nothing_written(media_root)


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "no_media"),
        ({"media_urls": ["ftp://example.com/a.jpg"]}, "media_url_invalid"),
        ({"media_urls": ["not a url"]}, "media_url_invalid"),
        ({"media_urls": ["https://user:pw@example.com/a.jpg"]}, "media_url_invalid"),
        ({"media_urls": "https://example.com/a.jpg", "hashtags": "#a"}, "invalid"),
        ({"media_urls": ["https://example.com/a.jpg"], "hashtags": ["#" + "a" * 200]}, "invalid"),
        ({"media_urls": [f"https://example.com/{i}.jpg" for i in range(9)]}, "invalid"),
    ],
)
def test_bad_input_gets_a_stable_code(api: APIClient, media_root: Path, payload: dict, code: str) -> None:
    response = api.post(SCANS, payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and set(error) == {"code", "message", "fields"}
    nothing_written(media_root)


def test_malformed_json_is_400(api: APIClient) -> None:
    response = api.generic("POST", SCANS, b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_request"


def test_unknown_scan_is_404_json(api: APIClient) -> None:
    response = api.get(f"{SCANS}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
