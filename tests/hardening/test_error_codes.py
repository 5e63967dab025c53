"""Issue 21: one input, one code, whatever the endpoint. A zero-byte file is ``empty_input`` on every
endpoint that takes media (curl's ``-F media=@/dev/null`` included); a broken multipart body is
``malformed_request``; every response under /api/ (unresolved paths, bad ids, 404, 405) is the API's
JSON error format."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.support import scan_fixtures as _scans

pytestmark = pytest.mark.django_db

_scan_settings = _scans._scan_settings
scan_weights = _scans.scan_weights
media_root = _scans.media_root
platform = _scans.platform
client_for = _scans.client_for
api = _scans.api

MEDIA_ENDPOINTS = {
    "/api/v1/scans": ["media"],
    "/api/v1/known-fakes": ["media"],
    "/api/v1/watermark/recover": ["media"],
    "/api/v1/reports": ["media"],
    "/api/v1/generations": ["source", "target"],
    "/api/v1/protected-identities": ["image"],
}
EXTRA = {
    "/api/v1/reports": {"external_id": "p1", "reporter_id": "u1", "category": "other"},
    "/api/v1/generations": {"user_id": "u1", "consent": "Both people agreed in writing (test)."},
    "/api/v1/protected-identities": {"label": "x"},
}


def _multipart(fields: dict[str, str], files: list[str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "fakeme-error-codes"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for field in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.mark.parametrize("path", list(MEDIA_ENDPOINTS))
@pytest.mark.parametrize("filename", ["empty.jpg", "null"])  # "null": what curl sends for @/dev/null
def test_zero_byte_file_is_empty_input_everywhere(api: APIClient, path: str, filename: str) -> None:
    body, content_type = _multipart(EXTRA.get(path, {}), MEDIA_ENDPOINTS[path], filename, b"")
    response = api.generic("POST", path, body, content_type=content_type)
    assert response.status_code == 400, response.content[:300]
    assert _error(response)["code"] == "empty_input"


@pytest.mark.parametrize("path", ["/api/v1/scans", "/api/v1/known-fakes", "/api/v1/watermark/recover"])
@pytest.mark.parametrize(
    "body",
    [
        b'--zzz\r\nContent-Disposition: form-data; name="media"; filename="x.jpg"\r\n\r\n\xff\xd8\xff',
        b"no multipart here at all",
    ],
    ids=["cut-off", "garbage"],
)
def test_broken_multipart_is_malformed_request(api: APIClient, path: str, body: bytes) -> None:
    response = api.generic("POST", path, body, content_type="multipart/form-data; boundary=zzz")
    assert response.status_code == 400, response.content[:300]
    assert _error(response)["code"] == "malformed_request"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/scans/", 404, "not_found"),  # a trailing slash
        ("/api/v1/scans/not-a-uuid", 404, "not_found"),
        ("/api/v1/known-fakes/12ab", 404, "not_found"),
        ("/api/v1/nothing-here", 404, "not_found"),
        ("/api/", 404, "not_found"),
    ],
)
def test_unresolved_api_paths_answer_json(api: APIClient, path: str, status: int, code: str) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert _error(response)["code"] == code


def test_unresolved_api_path_is_json_without_a_key_too() -> None:
    response = Client().get("/api/v1/scans/")
    assert response.status_code == 404 and _error(response)["code"] == "not_found"


def test_method_not_allowed_is_json(api: APIClient) -> None:
    response = api.put("/api/v1/scans", {}, format="json")
    assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed"


def test_a_crash_under_api_is_json(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("moderation.scans.api.views.scan_list", crash)
    client = api
    client.raise_request_exception = False
    response = client.get("/api/v1/scans")
    assert response.status_code == 500
    assert _error(response)["code"] == "internal_error"
