"""Content Credentials (C2PA): signed with a CA made in the test, read back offline."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from watermark.credentials import AI_SOURCE_TYPES, read_credentials, sign_generated
from watermark.identities import LocalAuthority, local_authority


@pytest.fixture(scope="module")
def authority() -> LocalAuthority:
    return local_authority(common_name="Test generator", organization="Test org")


def _jpeg(seed: int = 0) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 255, (256, 320, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _signed(authority: LocalAuthority, data: bytes, fmt: str = "jpeg") -> bytes:
    return sign_generated(
        data,
        fmt,
        authority.identity,
        generator="FakeME test",
        version="9.9",
        edited=True,
        watermark_payload=(1234).to_bytes(5, "big"),
    )


def test_a_signed_file_is_trusted_only_under_its_anchor(authority: LocalAuthority) -> None:
    data = _signed(authority, _jpeg())
    valid = read_credentials(data, "jpeg")
    assert valid.present and valid.state == "valid" and not valid.tampered
    assert (valid.signer, valid.issuer, valid.claim_generator) == (
        "Test generator",
        "Test org",
        "FakeME test 9.9",
    )
    assert [a["action"] for a in valid.actions] == ["c2pa.created", "c2pa.edited"]
    assert all(a["digitalSourceType"] in AI_SOURCE_TYPES for a in valid.actions) and valid.ai_generated
    assert base64.b64decode(valid.soft_binding or "") == (1234).to_bytes(5, "big")
    assert valid.ingredients == 0
    assert read_credentials(data, "jpeg", trust_anchors=authority.ca_pem.decode()).state == "trusted"
    other = local_authority()  # a CA that did not issue the signer: not trusted
    assert read_credentials(data, "jpeg", trust_anchors=other.ca_pem.decode()).state == "valid"


def test_stripped_tampered_and_unsigned_files(authority: LocalAuthority) -> None:
    data = _signed(authority, _jpeg(1))
    # Re-encoding the pixels (a screenshot, a re-upload) drops the manifest: absent, evidence of nothing.
    stripped = cv2.imencode(".jpg", cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))[
        1
    ].tobytes()
    absent = read_credentials(stripped, "jpeg")
    assert (absent.present, absent.state, absent.reason, absent.ai_generated) == (
        False,
        None,
        "no_manifest",
        False,
    )
    # Editing pixels inside the signed file: the hash no longer matches.
    edited = bytearray(data)
    edited[-300] ^= 0xFF
    tampered = read_credentials(bytes(edited), "jpeg")
    assert tampered.present and tampered.state == "invalid" and tampered.tampered
    assert not tampered.ai_generated and "assertion.dataHash.mismatch" in tampered.failures
    assert read_credentials(_jpeg(2), "jpeg").reason == "no_manifest"
    assert read_credentials(b"BM...", "bmp").reason == "format_without_manifest_support"


def test_png_is_signed_too_and_the_pixels_are_unchanged(authority: LocalAuthority) -> None:
    rgb = np.random.default_rng(3).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    png = cv2.imencode(".png", rgb)[1].tobytes()
    signed = _signed(authority, png, "png")
    assert read_credentials(signed, "png").state == "valid"
    assert np.array_equal(cv2.imdecode(np.frombuffer(signed, np.uint8), cv2.IMREAD_COLOR), rgb)
