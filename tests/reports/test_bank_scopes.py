"""Which bank a decision writes to, and which media (issue 21: one platform could poison the banks).

A decision banks only the media the moderator was shown on the item page and ticked; confirmations
go to the shared known-deepfake bank when the platform shares them (else its own), clearings to the
platform's own allow bank; a platform may stop using the shared bank. Scans are real (the detector
and the bank lookup of ``scan_submit``), decisions go through the console like a moderator's.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from skimage import data

from moderation.core.models import Platform
from moderation.provenance.banks import bank_entry_add
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan
from moderation.scans.submission import scan_submit
from reports.models import ReviewItem
from reports.services.reports import report_create
from tests.detection.fakeme_media import encode
from tests.support.reports import scanned_post
from tests.support.scans import PlatformFactory, upload

pytestmark = pytest.mark.django_db


def _scan(platform: Platform, image: bytes, post: str) -> Scan:
    return scan_submit(platform=platform, uploads=[upload("p.jpg", image)], external_id=post).scan


def _moderator_client(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _shown(client: Client, item: ReviewItem) -> tuple[str, list[str]]:
    """The item page, and the SHA-256 of every media it offers to bank (in page order)."""
    page = client.get(reverse("console:item", args=[item.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    return body, re.findall(r'name="bank_media" value="([0-9a-f]{64})"', body)


def _decide(client: Client, item: ReviewItem, decision: str, bank_media: list[str], **extra: str) -> None:
    item.refresh_from_db()
    response = client.post(
        reverse("console:item-decide", args=[item.pk]),
        {"version": item.version, "decision": decision, "note": "checked", "bank_media": bank_media, **extra},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == decision


@pytest.fixture
def posted(platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes) -> tuple[ReviewItem, str, str]:
    """Platform A's post (the astronaut), reported twice: the first report attached an unrelated photo
    (the coffee cup), the second the post's own scan. Returns (item, sha of the post, sha of the photo)."""
    post = scanned_post(platform, external_id="post-a", image=face_jpeg, probability=0.95, verdict="fake")
    mallory = report_create(
        platform=platform,
        external_post_id="post-a",
        reporter_id="mallory",
        category="non_consensual",
        upload=upload("unrelated.jpg", no_face_jpeg),
    ).report
    item = report_create(
        platform=platform, external_post_id="post-a", reporter_id="r2", category="other", scan_id=post.pk
    ).item
    unrelated = mallory.scan.media.get().sha256
    return item, post.media.get().sha256, unrelated


def test_confirm_banks_only_the_media_shown_and_ticked(
    posted: tuple[ReviewItem, str, str],
    alice: AbstractBaseUser,
    face_jpeg: bytes,
    no_face_jpeg: bytes,
) -> None:
    item, post_sha, unrelated_sha = posted
    client = _moderator_client(alice)
    body, offered = _shown(client, item)
    # every distinct media of the item is evidence, each with who sent it
    assert set(offered) == {post_sha, unrelated_sha}
    assert body.count('class="card evidence') == 2 and "report by mallory" in body
    _decide(client, item, "confirmed", [post_sha])  # the moderator unticks the unrelated photo

    other = PlatformFactory()
    photo = _scan(other, no_face_jpeg, "b-1")
    assert photo.verdict != "fake" and "known_deepfake" not in photo.reasons
    copy = _scan(other, face_jpeg, "b-2")  # the confirmed deepfake itself: shared, so fake for B too
    assert copy.verdict == "fake" and copy.decided_by == "bank" and "known_deepfake" in copy.reasons
    assert list(BankEntry.objects.values_list("sha256", "platform")) == [(post_sha, None)]


def test_media_sent_after_the_page_was_shown_is_not_banked(
    posted: tuple[ReviewItem, str, str], platform: Platform, alice: AbstractBaseUser
) -> None:
    item, post_sha, unrelated_sha = posted
    client = _moderator_client(alice)
    _, offered = _shown(client, item)
    late = report_create(
        platform=platform,
        external_post_id="post-a",
        reporter_id="late",
        category="other",
        upload=upload("late.jpg", encode(data.chelsea(), "JPEG", quality=90)),
    )
    late_sha = late.report.scan.media.get().sha256
    _decide(client, item, "confirmed", offered)
    banked = set(BankEntry.objects.values_list("sha256", flat=True))
    assert banked == {post_sha, unrelated_sha} and late_sha not in banked
    # and media that is not the item's is refused, nothing written
    other = scanned_post(platform, external_id="elsewhere", image=encode(data.coffee()[::2, ::2], "JPEG"))
    item2 = report_create(
        platform=platform, external_post_id="post-c", reporter_id="r", category="other", scan_id=other.pk
    ).item
    item2.refresh_from_db()
    response = client.post(
        reverse("console:item-decide", args=[item2.pk]),
        {"version": item2.version, "decision": "confirmed", "bank_media": [late_sha]},
        follow=True,
    )
    assert any("Only media of this item" in m.message for m in response.context["messages"])
    item2.refresh_from_db()
    assert item2.status == "open" and late_sha not in set(BankEntry.objects.values_list("sha256", flat=True))


def test_allow_bank_dismissal_clears_the_media_for_its_platform_only(
    platform: Platform, alice: AbstractBaseUser, face_jpeg: bytes
) -> None:
    # a known deepfake in the shared bank (an earlier confirmation on another platform)
    elsewhere = scanned_post(PlatformFactory(), external_id="c-1", image=face_jpeg, verdict="fake")
    media = elsewhere.media.get()
    bank_entry_add(bank="known_fake", source="moderator", sha256=media.sha256, pdq=media.pdq,
                   pdq_quality=media.pdq_quality)  # fmt: skip
    b = PlatformFactory()
    assert _scan(b, face_jpeg, "b-0").verdict == "fake"

    post = scanned_post(platform, external_id="post-a", image=face_jpeg, probability=0.2, verdict="real")
    item = report_create(
        platform=platform, external_post_id="post-a", reporter_id="r", category="other", scan_id=post.pk
    ).item
    client = _moderator_client(alice)
    _, offered = _shown(client, item)
    _decide(client, item, "dismissed", offered, allow_bank="1")
    assert BankEntry.objects.get(bank="allow").platform == platform

    for_b = _scan(b, face_jpeg, "b-1")
    assert for_b.verdict == "fake" and "known_deepfake" in for_b.reasons  # still fake for B
    for_a = _scan(platform, face_jpeg, "a-2")
    assert for_a.verdict != "fake" and "allow_listed" in for_a.reasons  # cleared for A


def test_a_platform_can_keep_its_confirmations_and_skip_the_shared_bank(
    posted: tuple[ReviewItem, str, str], platform: Platform, alice: AbstractBaseUser, face_jpeg: bytes
) -> None:
    item, post_sha, _ = posted
    platform.share_confirmed_fakes = False
    platform.save()
    _decide(_moderator_client(alice), item, "confirmed", [post_sha])
    assert BankEntry.objects.get().platform == platform  # its own bank, not the shared one
    assert _scan(platform, face_jpeg, "a-2").decided_by == "bank"
    assert "known_deepfake" not in _scan(PlatformFactory(), face_jpeg, "b-1").reasons

    BankEntry.objects.update(platform=None)  # now shared: a platform that opted out does not use it
    loner = PlatformFactory(use_shared_known_fakes=False)
    assert "known_deepfake" not in _scan(loner, face_jpeg, "l-1").reasons
    assert "known_deepfake" in _scan(PlatformFactory(), face_jpeg, "b-2").reasons


def test_a_bulk_decision_banks_nothing(posted: tuple[ReviewItem, str, str], alice: AbstractBaseUser) -> None:
    item, _, _ = posted
    response = _moderator_client(alice).post(
        reverse("console:bulk-decide"), {"items": [f"{item.pk}:{item.version}"], "decision": "confirmed"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == "confirmed" and not BankEntry.objects.exists()
