"""Idempotency-Key: same key and body -> same scan; different body -> 409; keys expire after 24 h."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from moderation.scans.models import IdempotencyKey, Scan
from tests.support.scans import stored_files, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def post(api: APIClient, data: bytes, key: str, **fields: object):
    return api.post(
        SCANS, {"media": upload("p.jpg", data), **fields}, format="multipart", HTTP_IDEMPOTENCY_KEY=key
    )


def test_same_key_and_body_return_the_same_scan(api: APIClient, face_jpeg: bytes, media_root) -> None:
    first = post(api, face_jpeg, "k-1", external_id="p1", hashtags=["#a"])
    second = post(api, face_jpeg, "k-1", external_id="p1", hashtags=["#a"])
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert first.json() == second.json()
    assert Scan.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_same_key_different_body_is_409(
    api: APIClient, face_jpeg: bytes, no_face_jpeg: bytes, media_root
) -> None:
    assert post(api, face_jpeg, "k-2", external_id="p1").status_code == 200
    for other in (
        post(api, face_jpeg, "k-2", external_id="p2"),  # other field
        post(api, no_face_jpeg, "k-2", external_id="p1"),  # other file
    ):
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Scan.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_keys_expire_after_24_hours(api: APIClient, face_jpeg: bytes) -> None:
    first = post(api, face_jpeg, "k-3").json()["id"]
    record = IdempotencyKey.objects.get(key="k-3")
    assert timedelta(hours=23, minutes=59) < record.expires_at - record.created_at <= timedelta(hours=24)
    IdempotencyKey.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    again = post(api, face_jpeg, "k-3")
    assert again.status_code == 200 and again.json()["id"] != first
    assert IdempotencyKey.objects.filter(key="k-3").count() == 1  # the expired record was replaced


def test_without_key_every_request_is_a_new_scan(api: APIClient, face_jpeg: bytes) -> None:
    ids = {
        api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()["id"]
        for _ in range(2)
    }
    assert len(ids) == 2


def test_overlong_key_is_rejected(api: APIClient, face_jpeg: bytes) -> None:
    response = post(api, face_jpeg, "k" * 300)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_idempotency_key"
