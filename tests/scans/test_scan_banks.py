"""Known-deepfake and allow banks: PDQ matching that survives resizing and re-encoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.provenance.models import BankEntry
from moderation.provenance.pdq import pdq_distance, pdq_of_image
from moderation.scans.known_fakes import bank_entry_from_scan_media
from moderation.scans.models import ScanMedia
from tests.detection.fakeme_media import encode
from tests.support.scans import upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"
KNOWN = "/api/v1/known-fakes"


@pytest.fixture
def real_by_model(platform: Platform) -> Platform:
    """The classifier calls every face real here, so only a bank can make a verdict fake."""
    platform.threshold = 1.0
    platform.save()
    return platform


def reuploaded(astronaut: np.ndarray) -> bytes:
    """The same picture as a re-uploader would post it: half size, JPEG quality 70."""
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    return encode(small, "JPEG", quality=70)


def test_pdq_survives_resize_and_reencode(
    astronaut: np.ndarray, face_jpeg: bytes, no_face_jpeg: bytes
) -> None:
    original, copy, other = (pdq_of_image(d) for d in (face_jpeg, reuploaded(astronaut), no_face_jpeg))
    assert original and copy and other and original.quality >= 50
    assert pdq_distance(original.hex, copy.hex) <= 31
    assert pdq_distance(original.hex, other.hex) > 64


def test_known_fake_reupload_is_tagged_after_resize_and_reencode(
    api: APIClient, real_by_model: Platform, astronaut: np.ndarray, face_jpeg: bytes
) -> None:
    submitted = api.post(
        KNOWN, {"media": upload("fake.jpg", face_jpeg), "note": "confirmed"}, format="multipart"
    )
    assert submitted.status_code == 201, submitted.content
    entry = submitted.json()
    assert len(entry["pdq"]) == 64 and entry["note"] == "confirmed"

    body = api.post(
        SCANS, {"media": upload("re.jpg", reuploaded(astronaut)), "hashtags": ["#moon"]}, format="multipart"
    ).json()
    assert body["verdict"] == "fake"
    assert body["decided_by"] == "bank"
    assert body["reasons"] == ["known_deepfake"]
    assert body["hashtags"] == ["#moon", "#Deepfake"]
    match = body["known_deepfake_matches"][0]
    assert match["id"] == entry["id"] and match["bank"] == "known_fake" and match["media_index"] == 0
    assert 0 <= match["distance"] <= 31
    assert body["media"][0]["decided_by"] == "bank"


def test_unrelated_picture_does_not_match(
    api: APIClient, real_by_model: Platform, face_jpeg: bytes, no_face_jpeg: bytes
) -> None:
    assert api.post(KNOWN, {"media": upload("fake.jpg", face_jpeg)}, format="multipart").status_code == 201
    body = api.post(SCANS, {"media": upload("c.jpg", no_face_jpeg)}, format="multipart").json()
    assert body["verdict"] == "not_applicable" and body["known_deepfake_matches"] == []


def test_known_fake_from_own_scan_and_listing(
    api: APIClient, real_by_model: Platform, face_jpeg: bytes
) -> None:
    scan = api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()
    assert scan["verdict"] == "real"
    created = api.post(KNOWN, {"scan_id": scan["id"], "media_index": 0}, format="json")
    assert created.status_code == 201 and created.json()["scan_id"] == scan["id"]
    listed = api.get(KNOWN).json()["results"]
    assert [e["id"] for e in listed] == [created.json()["id"]]
    again = api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()
    assert again["verdict"] == "fake" and again["known_deepfake_matches"][0]["distance"] == 0
    # Withdrawn: the next upload is judged by the model alone again.
    assert api.delete(f"{KNOWN}/{created.json()['id']}").status_code == 204
    assert (
        api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()["verdict"] == "real"
    )


def test_known_fake_needs_exactly_one_source(api: APIClient, face_jpeg: bytes) -> None:
    response = api.post(KNOWN, {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_global_moderator_entry_applies_to_every_platform_without_revealing_its_id(
    api: APIClient, real_by_model: Platform, astronaut: np.ndarray, face_jpeg: bytes, client_for
) -> None:
    from tests.support.scans import PlatformFactory

    other = PlatformFactory(threshold=1.0)
    other_scan = (
        client_for(other).post(SCANS, {"media": upload("o.jpg", face_jpeg)}, format="multipart").json()
    )
    bank_entry_from_scan_media(  # shared: a confirmation on a platform that shares them
        bank=BankEntry.Bank.KNOWN_FAKE,
        scan_media=ScanMedia.objects.get(scan_id=other_scan["id"]),
        platform=None,
    )
    body = api.post(SCANS, {"media": upload("re.jpg", reuploaded(astronaut))}, format="multipart").json()
    assert body["verdict"] == "fake" and body["decided_by"] == "bank"
    assert body["known_deepfake_matches"][0]["id"] is None  # not this platform's entry
    assert body["known_deepfake_matches"][0]["source"] == "moderator"


def test_allow_bank_suppresses_retagging(
    api: APIClient, platform: Platform, astronaut: np.ndarray, face_jpeg: bytes
) -> None:
    """Media cleared on appeal is not tagged again, even when the model (threshold 0) calls it fake."""
    platform.threshold = 0.0
    platform.save()
    first = api.post(
        SCANS, {"media": upload("p.jpg", face_jpeg), "hashtags": ["#a"]}, format="multipart"
    ).json()
    assert first["verdict"] == "fake" and first["hashtags"] == ["#a", "#Deepfake"]
    bank_entry_from_scan_media(  # a clearing on this platform's post: its own allow bank
        bank=BankEntry.Bank.ALLOW, scan_media=ScanMedia.objects.get(scan_id=first["id"]), platform=platform
    )

    body = api.post(
        SCANS, {"media": upload("re.jpg", reuploaded(astronaut)), "hashtags": ["#a"]}, format="multipart"
    ).json()
    assert body["verdict"] == "real"
    assert body["decided_by"] == "bank" and body["reasons"] == ["allow_listed"]
    assert body["hashtags"] == ["#a"] and body["tagged"] is False
    assert body["probability"] >= 0.0  # the model's score is still reported


def test_the_same_known_fake_twice_is_one_entry_and_deleting_it_unflags_the_photo(
    api: APIClient, real_by_model: Platform, face_jpeg: bytes, astronaut: np.ndarray
) -> None:
    first = api.post(KNOWN, {"media": upload("fake.jpg", face_jpeg), "note": "first"}, format="multipart")
    assert first.status_code == 201, first.content
    again = api.post(KNOWN, {"media": upload("again.jpg", face_jpeg), "note": "again"}, format="multipart")
    assert again.status_code == 200 and again.json() == first.json()  # the existing entry, unchanged
    scan = api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()
    by_scan = api.post(KNOWN, {"scan_id": scan["id"], "media_index": 0}, format="json")
    assert by_scan.status_code == 200 and by_scan.json()["id"] == first.json()["id"]
    assert len(api.get(KNOWN).json()["results"]) == 1
    assert BankEntry.objects.filter(platform=real_by_model).count() == 1

    assert api.delete(f"{KNOWN}/{first.json()['id']}").status_code == 204
    after = api.post(SCANS, {"media": upload("re.jpg", reuploaded(astronaut))}, format="multipart").json()
    assert after["verdict"] != "fake" and after["known_deepfake_matches"] == []
