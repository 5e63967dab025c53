"""Stored media cannot be guessed or fetched around the API: files are stored under 256 random bits
(not the upload's name, not its content hash, so the same picture twice gets two unrelated names),
nothing is served under MEDIA_URL, and the API hands a file only to its own platform (the tenant matrix
checks the other platform's 404; here: the UUID4 scan id and the media index are the whole address).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.scans.models import ScanMedia
from tests.support.security import upload

pytestmark = pytest.mark.django_db


SCANS = "/api/v1/scans"
_STORED_NAME = re.compile(r"scans/\d{4}/\d{2}/[0-9a-f]{64}\.jpeg")


def test_stored_names_are_random_and_files_are_not_served_directly(
    api: APIClient, face_jpeg: bytes, media_root: Path, client_for: Callable[[Platform], APIClient]
) -> None:
    ids = []
    for post in ("post-1", "post-2"):  # the same picture twice
        response = api.post(
            SCANS,
            {"media": upload("alice-private-photo.jpg", face_jpeg), "external_id": post},
            format="multipart",
        )
        assert response.status_code == 200
        ids.append(response.json()["id"])
    keys = [ScanMedia.objects.get(scan_id=scan_id).storage_key for scan_id in ids]
    on_disk = sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())
    assert on_disk == sorted(keys) and len(set(keys)) == 2
    content_hash = hashlib.sha256(face_jpeg).hexdigest()
    for key in keys:
        assert _STORED_NAME.fullmatch(key), key
        assert "alice" not in key and "post-" not in key and content_hash not in key

    # No URL serves the storage: not MEDIA_URL, for nobody, staff included.
    staff = get_user_model().objects.create_user("staff", password=None, is_staff=True)
    staff_client = Client()
    staff_client.force_login(staff)
    for key in keys:
        for client in (Client(), staff_client):
            assert client.get(f"/{settings.MEDIA_URL}{key}").status_code == 404
            assert client.get(f"/{key}").status_code == 404

    # Through the API: the owner gets the bytes, never cached by a shared cache; no other index exists.
    own = api.get(f"{SCANS}/{ids[0]}/media/0")
    assert own.status_code == 200 and b"".join(own.streaming_content) == face_jpeg
    assert own["Cache-Control"] == "private, no-store"
    assert api.get(f"{SCANS}/{ids[0]}/media/1").json()["error"]["code"] == "not_found"
    assert api.get(f"{SCANS}/{ids[0]}/media/-1").status_code == 404
