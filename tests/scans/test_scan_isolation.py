"""Tenant isolation: platform A can never read, list or act on platform B's data, on any endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan
from tests.support.scans import PlatformFactory, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"
KNOWN = "/api/v1/known-fakes"


@pytest.fixture
def tenants(client_for: Callable[[Platform], APIClient], face_jpeg: bytes) -> dict:
    """Platforms A and B, each with a scan and a known fake of its own."""
    a, b = PlatformFactory(), PlatformFactory()
    client_a, client_b = client_for(a), client_for(b)
    scan_b = client_b.post(
        SCANS, {"media": upload("b.jpg", face_jpeg), "external_id": "b-post"}, format="multipart"
    )
    assert scan_b.status_code == 200
    fake_b = client_b.post(KNOWN, {"media": upload("f.jpg", face_jpeg)}, format="multipart")
    assert fake_b.status_code == 201
    return {"a": a, "b": b, "client_a": client_a, "client_b": client_b,
            "scan_b": scan_b.json()["id"], "fake_b": fake_b.json()["id"]}  # fmt: skip


def test_a_cannot_read_b_scan(tenants: dict) -> None:
    response = tenants["client_a"].get(f"{SCANS}/{tenants['scan_b']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert tenants["client_b"].get(f"{SCANS}/{tenants['scan_b']}").status_code == 200


def test_a_cannot_list_b_scans(tenants: dict) -> None:
    assert tenants["client_a"].get(SCANS).json()["results"] == []
    assert tenants["client_a"].get(SCANS, {"external_id": "b-post"}).json()["results"] == []
    assert [s["id"] for s in tenants["client_b"].get(SCANS).json()["results"]] == [tenants["scan_b"]]


def test_a_cannot_download_b_media(tenants: dict) -> None:
    assert tenants["client_a"].get(f"{SCANS}/{tenants['scan_b']}/media/0").status_code == 404


def test_a_cannot_read_list_or_delete_b_known_fakes(tenants: dict) -> None:
    client_a, fake_b = tenants["client_a"], tenants["fake_b"]
    assert client_a.get(KNOWN).json()["results"] == []
    assert client_a.get(f"{KNOWN}/{fake_b}").status_code == 404
    assert client_a.delete(f"{KNOWN}/{fake_b}").status_code == 404
    assert BankEntry.objects.filter(pk=fake_b).exists()


def test_a_cannot_submit_b_scan_as_known_fake(tenants: dict) -> None:
    response = tenants["client_a"].post(KNOWN, {"scan_id": tenants["scan_b"]}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not BankEntry.objects.filter(platform=tenants["a"]).exists()


def test_b_known_fakes_do_not_tag_a_posts(tenants: dict, face_jpeg: bytes) -> None:
    """B's bank is B's: A's scan of the same picture is judged by the model (and global entries) only."""
    tenants["a"].threshold = 1.0
    tenants["a"].save()
    body = tenants["client_a"].post(SCANS, {"media": upload("a.jpg", face_jpeg)}, format="multipart").json()
    assert body["verdict"] == "real" and body["known_deepfake_matches"] == []


def test_idempotency_keys_are_per_platform(tenants: dict, face_jpeg: bytes) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    ids = [
        client.post(SCANS, {"media": upload("x.jpg", face_jpeg)}, format="multipart", **headers).json()["id"]
        for client in (tenants["client_a"], tenants["client_b"])
    ]
    assert ids[0] != ids[1]
    assert Scan.objects.get(pk=ids[0]).platform == tenants["a"]
    assert Scan.objects.get(pk=ids[1]).platform == tenants["b"]
