"""Every scan reads Content Credentials: an intact manifest declaring generative AI makes the post fake
(decided_by provenance); a tampered one is reported and decides nothing; an absent one changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from tests.support.scans import upload
from watermark.credentials import sign_generated
from watermark.identities import LocalAuthority, local_authority

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


@pytest.fixture(scope="module")
def authority() -> LocalAuthority:
    return local_authority(common_name="Another generator", organization="Elsewhere Inc.")


def _sign(authority: LocalAuthority, data: bytes) -> bytes:
    return sign_generated(
        data, "jpeg", authority.identity, generator="Elsewhere", version="3", edited=False,
        watermark_payload=bytes(5),
    )  # fmt: skip


def _scan(client: APIClient, data: bytes) -> dict:
    response = client.post(SCANS, {"media": upload("p.jpg", data), "hashtags": ["#moon"]}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_manifest_declaring_ai_makes_the_post_fake(
    api: APIClient, face_jpeg: bytes, authority: LocalAuthority, settings: Any, tmp_path: Path
) -> None:
    body = _scan(api, _sign(authority, face_jpeg))
    assert body["verdict"] == "fake" and body["decided_by"] == "provenance"
    assert body["reasons"] == ["c2pa_ai_generated"] and body["tagged"] is True
    media = body["media"][0]
    cc = media["content_credentials"]
    assert (
        cc["present"]
        and cc["state"] == "valid"
        and cc["ai_generated"]
        and cc["signer"] == "Another generator"
    )
    assert cc["claim_generator"] == "Elsewhere 3" and cc["actions"][0]["action"] == "c2pa.created"
    signal = media["signals"]["content_credentials"]
    assert signal["applied"] is True and signal["value"] == "valid" and signal["ai_generated"] is True
    # With the CA as a trust anchor the same file is trusted.
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(authority.ca_pem)
    settings.C2PA_TRUST_ANCHORS_FILE = str(anchors)
    assert _scan(api, _sign(authority, face_jpeg))["media"][0]["content_credentials"]["state"] == "trusted"


def test_a_tampered_manifest_is_reported_and_decides_nothing(
    api: APIClient, face_jpeg: bytes, authority: LocalAuthority
) -> None:
    signed = bytearray(_sign(authority, face_jpeg))
    signed[-400] ^= 0xFF
    body = _scan(api, bytes(signed))
    assert body["decided_by"] == "model" and "c2pa_manifest_tampered" in body["reasons"]
    assert body["media"][0]["content_credentials"]["tampered"] is True
    assert body["media"][0]["signals"]["content_credentials"]["value"] == "invalid"


def test_no_manifest_is_evidence_of_nothing(api: APIClient, face_jpeg: bytes) -> None:
    plain = _scan(api, face_jpeg)
    assert plain["decided_by"] == "model"
    assert plain["media"][0]["signals"]["content_credentials"] == {
        "applied": False,
        "value": None,
        "reason": "no_manifest",
    }
    # Re-encoded pixels of a signed file: the manifest is gone, the verdict is the classifier's.
    rgb = cv2.imdecode(np.frombuffer(face_jpeg, np.uint8), cv2.IMREAD_COLOR)
    again = _scan(api, cv2.imencode(".jpg", rgb)[1].tobytes())
    assert again["media"][0]["content_credentials"]["present"] is False
