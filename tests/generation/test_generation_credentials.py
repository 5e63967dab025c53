"""Every generated image carries signed Content Credentials beside the watermark; a scan finds both,
and a copy whose manifest was stripped is still found by the watermark."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from tests.generation.test_generation_api import CONSENT, GENERATIONS, reencoded
from tests.support.scans import upload
from watermark.credentials import read_credentials

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]


@pytest.fixture
def api(make_platform: Callable[..., Platform], client_for: Callable[[Platform], APIClient]) -> APIClient:
    return client_for(make_platform())


def test_a_generated_image_is_signed_and_a_scan_reads_watermark_and_manifest(
    api: APIClient, ffhq_bytes: Callable[[int], bytes], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = {"source": upload("s.jpg", ffhq_bytes(3)), "target": upload("t.jpg", ffhq_bytes(4))}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(GENERATIONS, body | {"user_id": "u-1", "consent": CONSENT}, format="multipart")
    generation = api.get(created["Location"]).json()
    assert generation["status"] == "completed", generation["error"]
    output = b"".join(api.get(generation["output"]["url"]).streaming_content)

    local_ca = (settings.C2PA_LOCAL_DIR / "local-ca.pem").read_text()  # made on first use
    cc = read_credentials(output, "jpeg", trust_anchors=local_ca)
    assert cc.state == "trusted" and cc.ai_generated
    assert [a["action"] for a in cc.actions] == ["c2pa.created", "c2pa.edited"]
    assert cc.claim_generator and cc.claim_generator.startswith("FakeME landmark face swap")
    payload = generation["watermark"]["payload"]
    assert int.from_bytes(base64.b64decode(cc.soft_binding or ""), "big") == payload

    scan = api.post("/api/v1/scans", {"media": upload("post.jpg", output)}, format="multipart").json()
    assert scan["verdict"] == "fake" and scan["decided_by"] == "watermark"  # the mark outranks the manifest
    assert scan["watermark"]["generation_id"] == generation["id"]
    media = scan["media"][0]
    assert media["content_credentials"]["state"] == "valid" and media["content_credentials"]["ai_generated"]

    stripped = reencoded(output)  # resized and re-encoded: the manifest is gone, the mark is not
    again = api.post("/api/v1/scans", {"media": upload("copy.jpg", stripped)}, format="multipart").json()
    assert again["media"][0]["content_credentials"]["present"] is False
    assert again["decided_by"] == "watermark" and again["watermark"]["generation_id"] == generation["id"]
