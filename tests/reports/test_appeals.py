"""Appeals: the author contests a #Deepfake tag once (auto-applied or confirmed by a moderator);
upholding removes the tag by webhook and keeps a re-scan of the same media from tagging it again."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform
from moderation.provenance.models import BankEntry
from reports.models import Report, ReporterStats, ReviewItem
from reports.services.review_decisions import review_decide
from tests.support.reports import reported_post, scanned_post
from tests.support.scans import LocalServer, PlatformFactory, upload, verify_standard_webhook

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"
APPEALS = "/api/v1/appeals"


@pytest.fixture
def trigger_happy(hooked: Platform) -> Platform:
    """A threshold of 0: the classifier calls every face fake, so a scan tags it automatically."""
    hooked.threshold = 0.0
    hooked.save()
    return hooked


def _appeal(api: APIClient, post: str = "post-1", appellant: str = "author-1", **fields):  # type: ignore[no-untyped-def]
    data = {"external_id": post, "appellant_id": appellant, "statement": "It is really me.", **fields}
    return api.post(APPEALS, data, format="json")


def _scan(api: APIClient, image: bytes, post: str = "post-1") -> dict:
    response = api.post(
        SCANS,
        {
            "media": upload("p.jpg", image),
            "external_id": post,
            "author_id": "author-1",
            "hashtags": ["#moon"],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_upheld_appeal_removes_the_auto_tag_and_a_rescan_does_not_tag_again(
    api: APIClient,
    trigger_happy: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    astronaut: np.ndarray,
    alice: AbstractBaseUser,
    django_capture_on_commit_callbacks,
) -> None:
    first = _scan(api, face_jpeg)  # the real detector, through the scan API
    assert first["verdict"] == "fake" and first["tagged"] and first["hashtags"] == ["#moon", "#Deepfake"]

    response = _appeal(api)
    assert response.status_code == 201, response.content
    appeal = response.json()
    assert response["Location"] == f"{APPEALS}/{appeal['id']}"
    assert appeal["status"] == "open" and appeal["decision"] is None and appeal["scan_id"] == first["id"]
    item = ReviewItem.objects.get(pk=appeal["id"])
    assert item.kind == "appeal" and item.appeal_of is None and item.score >= 50

    with django_capture_on_commit_callbacks(execute=True):
        decided = review_decide(
            item_id=item.pk,
            user=alice,
            decision="appeal_upheld",
            expected_version=item.version,
            note="Verified selfie.",
            bank_media=[item.scan.media.get().sha256],  # the appealed picture, ticked on the item page
        )
    assert decided.decision == "appeal_upheld" and decided.allow_listed and decided.hashtags == ["#moon"]
    received = local_server.wait_for_post(5)
    assert verify_standard_webhook(trigger_happy.webhook_secret, received.headers, received.body)
    event = json.loads(received.body)
    assert event["type"] == "appeal.resolved"
    assert event["data"]["decision"] == "appeal_upheld" and event["data"]["kind"] == "appeal"
    assert event["data"]["hashtags"] == ["#moon"] and event["data"]["remove_hashtags"] == ["#Deepfake"]
    assert event["data"]["add_hashtags"] == []
    assert BankEntry.objects.get().bank == "allow"

    # The same picture posted again, and a resized re-encoded copy: real, not tagged.
    import cv2

    from tests.detection.fakeme_media import encode

    copy = encode(cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA), "JPEG", quality=70)
    for image in (face_jpeg, copy):
        again = _scan(api, image, post="post-2")
        assert again["verdict"] == "real" and not again["tagged"], again
        assert again["hashtags"] == ["#moon"] and again["reasons"] == ["allow_listed"]
        assert again["decided_by"] == "bank"
    assert api.get(f"{APPEALS}/{appeal['id']}").json()["decision"] == "appeal_upheld"


def test_upheld_appeal_of_a_moderator_confirmation_reverses_the_reporters_credit(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    alice: AbstractBaseUser,
    bob: AbstractBaseUser,
    django_capture_on_commit_callbacks,
) -> None:
    item = reported_post(
        hooked, external_id="post-1", image=face_jpeg, reporters=["r1", "r2"], hashtags=["#a"]
    )
    sha256 = item.scan.media.get().sha256
    confirmed = review_decide(
        item_id=item.pk, user=alice, decision="confirmed", expected_version=item.version, bank_media=[sha256]
    )
    assert confirmed.hashtags == ["#a", "#Deepfake"]
    assert ReporterStats.objects.get(reporter_id="r1").agreed == 1

    appeal = _appeal(api).json()
    appeal_item = ReviewItem.objects.get(pk=appeal["id"])
    assert appeal_item.appeal_of == confirmed and appeal_item.category == confirmed.category
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(
            item_id=appeal_item.pk,
            user=bob,
            decision="appeal_upheld",
            expected_version=appeal_item.version,
            bank_media=[sha256],
        )
    data = json.loads(local_server.wait_for_post(5).body)["data"]
    assert data["hashtags"] == ["#a"] and data["remove_hashtags"] == ["#Deepfake"]
    assert data["appeal_of"] == str(confirmed.pk)
    assert set(Report.objects.values_list("outcome", flat=True)) == {"rejected"}
    assert [(s.agreed, s.rejected) for s in ReporterStats.objects.order_by("reporter_id")] == [(0, 1), (0, 1)]
    # The known-deepfake entry stays (history), but the allow entry wins for this media.
    assert set(BankEntry.objects.values_list("bank", flat=True)) == {"known_fake", "allow"}
    entry = AuditEntry.objects.get(action="review.decide", target_id=str(appeal_item.pk))
    assert entry.description.startswith(f"bob upheld the appeal on post post-1 ({hooked.name})")


def test_denied_appeal_keeps_the_tag(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    alice: AbstractBaseUser,
    django_capture_on_commit_callbacks,
) -> None:
    scanned_post(hooked, external_id="post-1", image=face_jpeg, verdict="fake", probability=0.9, tagged=True)
    appeal = _appeal(api).json()
    item = ReviewItem.objects.get(pk=appeal["id"])
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(item_id=item.pk, user=alice, decision="appeal_denied", expected_version=item.version)
    data = json.loads(local_server.wait_for_post(5).body)["data"]
    assert data["decision"] == "appeal_denied" and data["hashtags"] == ["#moon", "#Deepfake"]
    assert data["remove_hashtags"] == [] and data["add_hashtags"] == []
    assert not BankEntry.objects.exists()
    assert api.get(f"{APPEALS}/{appeal['id']}").json()["decision"] == "appeal_denied"


def test_a_post_is_appealed_once(
    api: APIClient, platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    scanned_post(
        platform, external_id="post-1", image=face_jpeg, verdict="fake", probability=0.9, tagged=True
    )
    first = _appeal(api).json()
    item = ReviewItem.objects.get(pk=first["id"])
    review_decide(item_id=item.pk, user=alice, decision="appeal_denied", expected_version=item.version)
    again = _appeal(api)
    assert again.status_code == 409 and again.json()["error"]["code"] == "appeal_exists"
    assert ReviewItem.objects.filter(kind="appeal").count() == 1


def test_what_cannot_be_appealed(
    api: APIClient,
    platform: Platform,
    face_jpeg: bytes,
    alice: AbstractBaseUser,
    client_for: Callable[[Platform], APIClient],
) -> None:
    scanned_post(platform, external_id="untagged", image=face_jpeg, verdict="real", probability=0.1)
    refused = _appeal(api, post="untagged")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_appealable"
    assert "#Deepfake" in refused.json()["error"]["message"]

    dismissed = reported_post(platform, external_id="dismissed", image=face_jpeg, probability=0.1)
    review_decide(item_id=dismissed.pk, user=alice, decision="dismissed", expected_version=1, note="fine")
    assert _appeal(api, post="dismissed").json()["error"]["code"] == "not_appealable"

    scanned_post(
        platform, external_id="tagged", image=face_jpeg, verdict="fake", probability=0.9, tagged=True
    )
    stranger = _appeal(api, post="tagged", appellant="someone-else")
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "not_the_author"
    assert _appeal(api, post="tagged", statement="x" * 2001).status_code == 400

    other = client_for(PlatformFactory())  # another platform cannot appeal (or see) this platform's post
    assert _appeal(other, post="tagged").json()["error"]["code"] == "not_appealable"
    assert not ReviewItem.objects.filter(kind="appeal").exists()

    mine = _appeal(api, post="tagged").json()
    assert other.get(f"{APPEALS}/{mine['id']}").status_code == 404
    report_item = ReviewItem.objects.filter(kind="report").first()
    assert api.get(f"{APPEALS}/{report_item.pk}").status_code == 404  # a report item is not an appeal


def test_appeal_items_only_take_appeal_decisions(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, api: APIClient
) -> None:
    scanned_post(
        platform, external_id="post-1", image=face_jpeg, verdict="fake", probability=0.9, tagged=True
    )
    item = ReviewItem.objects.get(pk=_appeal(api).json()["id"])
    with pytest.raises(ApplicationError) as caught:
        review_decide(item_id=item.pk, user=alice, decision="confirmed", expected_version=item.version)
    assert caught.value.code == "invalid_decision"
    escalated = review_decide(
        item_id=item.pk, user=alice, decision="escalated", expected_version=item.version
    )
    assert escalated.status == "escalated"
    entry = AuditEntry.objects.get(action="appeal.create")
    assert entry.actor is None and entry.actor_label == f"platform {platform.name}"
    assert entry.description == (
        f"User author-1 of {platform.name} appealed the #Deepfake tag on post post-1 "
        "(from an automatic scan verdict)."
    )
