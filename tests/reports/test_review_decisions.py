"""Moderator decisions through the services: claim/release, confirm, dismiss, escalate, bulk,
permissions, optimistic locking and the effects every decision must have (banks, webhook, reporters)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AbstractBaseUser

from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform, WebhookDelivery
from moderation.provenance.models import BankEntry
from reports.models import Report, ReporterStats, ReviewItem
from reports.services.review_claims import review_claim, review_release
from reports.services.review_decisions import review_bulk_decide, review_decide
from tests.support.reports import moderator, reported_post
from tests.support.scans import LocalServer, PlatformFactory, verify_standard_webhook

pytestmark = pytest.mark.django_db


def _item(platform: Platform, image: bytes, post: str = "post-1", **kwargs) -> ReviewItem:
    return reported_post(platform, external_id=post, image=image, **kwargs)


def _error(call) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value


# -- claim, release --------------------------------------------------------------------
def test_claim_is_visible_and_blocks_other_moderators(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg)
    claimed = review_claim(item_id=item.pk, user=alice, expected_version=item.version)
    assert claimed.assignee == alice and claimed.claimed_at is not None
    assert claimed.version == item.version + 1
    assert ReviewItem.objects.get(pk=item.pk).assignee_id == alice.pk

    error = _error(lambda: review_claim(item_id=item.pk, user=bob, expected_version=claimed.version))
    assert error.status == 409 and error.code == "review_claimed"
    assert "alice claimed this item" in error.message and error.fields["current"]["assignee"] == "alice"
    error = _error(
        lambda: review_decide(
            item_id=item.pk, user=bob, decision="confirmed", expected_version=claimed.version
        )
    )
    assert error.code == "review_claimed"
    error = _error(lambda: review_release(item_id=item.pk, user=bob, expected_version=claimed.version))
    assert error.code == "review_claimed"

    released = review_release(item_id=item.pk, user=alice, expected_version=claimed.version)
    assert released.assignee is None
    taken = review_claim(item_id=item.pk, user=bob, expected_version=released.version)
    assert taken.assignee == bob
    actions = list(
        AuditEntry.objects.filter(target_id=str(item.pk))
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["report.create", "review.claim", "review.release", "review.claim"]


# -- permissions -------------------------------------------------------------------------------
def test_non_staff_cannot_claim_or_decide(platform: Platform, face_jpeg: bytes) -> None:
    item = _item(platform, face_jpeg)
    for user in (moderator("user", staff=False), moderator("gone", is_active=False), None):
        for call in (
            lambda u=user: review_claim(item_id=item.pk, user=u, expected_version=item.version),
            lambda u=user: review_decide(
                item_id=item.pk, user=u, decision="confirmed", expected_version=item.version
            ),
            lambda u=user: review_bulk_decide(item_ids=[item.pk], user=u, decision="dismissed"),
        ):
            error = _error(call)
            assert (error.status, error.code) == (403, "forbidden")
    item.refresh_from_db()
    assert item.status == "open" and item.assignee is None and item.version == 1
    assert not AuditEntry.objects.exclude(action="report.create").exists()


# -- confirm -----------------------------------------------------------------------------------
def test_confirm_tags_banks_notifies_and_credits_reporters(
    hooked: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    alice: AbstractBaseUser,
    django_capture_on_commit_callbacks,
) -> None:
    item = _item(hooked, face_jpeg, reporters=["r1", "r2"], hashtags=["#moon", "#space"])
    media = item.scan.media.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decided = review_decide(
            item_id=item.pk,
            user=alice,
            decision="confirmed",
            expected_version=item.version,
            takedown=True,
            note="Same face as a known celebrity swap.",
            bank_media=[media.sha256],  # what the item page showed and the moderator ticked
        )
    assert len(callbacks) == 1  # the webhook only
    assert decided.status == "resolved" and decided.decision == "confirmed" and decided.decided_by == alice
    assert decided.assignee == alice and decided.takedown_requested
    assert decided.hashtags == ["#moon", "#space", "#Deepfake"]

    bank = BankEntry.objects.get(bank="known_fake")
    assert bank.platform is None and bank.source == "moderator" and bank.created_by == alice
    assert (bank.sha256, bank.pdq) == (media.sha256, media.pdq)

    received = local_server.wait_for_post(5)
    assert verify_standard_webhook(hooked.webhook_secret, received.headers, received.body)
    event = json.loads(received.body)
    assert event["type"] == "report.resolved"
    data = event["data"]
    assert data["id"] == str(item.pk) and data["external_id"] == "post-1" and data["decision"] == "confirmed"
    assert data["hashtags"] == ["#moon", "#space", "#Deepfake"]
    assert data["add_hashtags"] == ["#Deepfake"] and data["remove_hashtags"] == []
    assert data["takedown"] is True and len(data["reports"]) == 2
    assert WebhookDelivery.objects.get(event_type="report.resolved").status == "succeeded"

    assert set(Report.objects.values_list("outcome", flat=True)) == {"agreed"}
    assert {(s.reporter_id, s.agreed, s.rejected) for s in ReporterStats.objects.all()} == {
        ("r1", 1, 0),
        ("r2", 1, 0),
    }
    entry = AuditEntry.objects.get(action="review.decide")
    assert (
        entry.actor == alice and entry.before["status"] == "open" and entry.after["decision"] == "confirmed"
    )
    assert entry.description.startswith(
        f"alice confirmed the reports on post post-1 ({hooked.name}) as a deepfake"
    )
    assert (
        "takedown requested" in entry.description
        and "1 media into the shared known-deepfake bank" in entry.description
    )


def test_confirm_does_not_duplicate_a_bank_entry(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    first = _item(platform, face_jpeg, post="a")
    second = _item(platform, face_jpeg, post="b")  # the same picture reposted
    for item in (first, second):
        review_decide(
            item_id=item.pk,
            user=alice,
            decision="confirmed",
            expected_version=item.version,
            bank_media=[item.scan.media.get().sha256],
        )
    assert BankEntry.objects.filter(bank="known_fake").count() == 1


# -- dismiss -----------------------------------------------------------------------------------
def test_dismiss_of_a_high_score_item_needs_a_note(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg, probability=0.97, category="non_consensual", reporters=["a", "b", "c"])
    assert item.score >= 60
    error = _error(
        lambda: review_decide(
            item_id=item.pk, user=alice, decision="dismissed", expected_version=item.version
        )
    )
    assert (error.status, error.code) == (400, "note_required") and "note" in error.fields
    item.refresh_from_db()
    assert item.status == "open" and item.version == 1

    decided = review_decide(
        item_id=item.pk,
        user=alice,
        decision="dismissed",
        expected_version=item.version,
        note="Parody, labelled.",
    )
    assert decided.decision == "dismissed" and decided.decision_note == "Parody, labelled."
    assert not decided.allow_listed and not BankEntry.objects.exists()  # not asked for
    assert set(Report.objects.values_list("outcome", flat=True)) == {"rejected"}
    assert ReporterStats.objects.get(reporter_id="a").rejected == 1


def test_dismiss_low_score_without_note_and_allow_bank_when_asked(
    hooked: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    alice: AbstractBaseUser,
    django_capture_on_commit_callbacks,
) -> None:
    item = _item(hooked, face_jpeg, probability=0.02, category="other", tagged=False)
    assert item.score < 60
    with django_capture_on_commit_callbacks(execute=True):
        decided = review_decide(
            item_id=item.pk,
            user=alice,
            decision="dismissed",
            expected_version=item.version,
            allow_bank=True,
            bank_media=[item.scan.media.get().sha256],
        )
    assert decided.allow_listed
    entry = BankEntry.objects.get()
    assert entry.bank == "allow" and entry.platform == hooked  # the platform's own allow bank
    data = json.loads(local_server.wait_for_post(5).body)["data"]
    assert data["decision"] == "dismissed" and data["hashtags"] == ["#moon"] and data["add_hashtags"] == []
    assert data["takedown"] is False


def test_decision_arguments_are_checked(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg)
    for kwargs, code in (
        ({"decision": "appeal_upheld"}, "invalid_decision"),
        ({"decision": "banana"}, "invalid_decision"),
        ({"decision": "dismissed", "takedown": True, "note": "x"}, "invalid"),
        ({"decision": "confirmed", "allow_bank": True}, "invalid"),
    ):
        error = _error(lambda k=kwargs: review_decide(item_id=item.pk, user=alice, expected_version=1, **k))
        assert error.code == code, kwargs
    assert (
        _error(
            lambda: review_decide(item_id="not-a-uuid", user=alice, decision="confirmed", expected_version=1)
        ).status
        == 404
    )


# -- escalate ----------------------------------------------------------------------------------
def test_escalate_keeps_the_item_in_the_queue_unassigned(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg)
    item = review_claim(item_id=item.pk, user=alice, expected_version=item.version)
    item = review_decide(
        item_id=item.pk, user=alice, decision="escalated", expected_version=item.version, note="Need legal."
    )
    assert item.status == "escalated" and item.decision == "escalated" and item.assignee is None
    assert not Report.objects.exclude(outcome="pending").exists()
    assert not WebhookDelivery.objects.exists()
    again = _error(
        lambda: review_decide(item_id=item.pk, user=bob, decision="escalated", expected_version=item.version)
    )
    assert again.code == "invalid_decision"
    final = review_decide(item_id=item.pk, user=bob, decision="confirmed", expected_version=item.version)
    assert final.status == "resolved" and final.decided_by == bob


# -- optimistic locking ------------------------------------------------------------------------
def test_two_moderators_deciding_the_same_item_cannot_both_win(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg, probability=0.2)
    seen = item.version  # both opened the item at this version
    review_decide(item_id=item.pk, user=alice, decision="confirmed", expected_version=seen)
    error = _error(
        lambda: review_decide(
            item_id=item.pk, user=bob, decision="dismissed", expected_version=seen, note="no"
        )
    )
    assert (error.status, error.code) == (409, "review_conflict")
    assert "alice confirmed the reports on post post-1" in error.message
    assert (
        error.fields["current"]["decision"] == "confirmed"
        and error.fields["current"]["decided_by"] == "alice"
    )
    item.refresh_from_db()
    assert item.decision == "confirmed" and item.decided_by == alice
    assert BankEntry.objects.filter(bank="allow").count() == 0 and ReporterStats.objects.get().agreed == 1
    assert AuditEntry.objects.filter(action="review.decide").count() == 1


def test_a_stale_version_is_a_conflict_even_for_a_claim(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    item = _item(platform, face_jpeg)
    review_claim(item_id=item.pk, user=alice, expected_version=1)
    review_release(item_id=item.pk, user=alice, expected_version=2)
    error = _error(lambda: review_claim(item_id=item.pk, user=bob, expected_version=1))
    assert error.code == "review_conflict" and "alice released the reports on post post-1" in error.message


# -- bulk --------------------------------------------------------------------------------------
def test_bulk_dismiss_shares_one_audit_group_and_skips_what_it_cannot_decide(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    low = [_item(platform, face_jpeg, post=f"low-{i}", probability=0.05, category="other") for i in range(3)]
    high = _item(
        platform, face_jpeg, post="high", probability=0.99, category="non_consensual", reporters="abc"
    )
    held = _item(platform, face_jpeg, post="held", probability=0.05, category="other")
    review_claim(item_id=held.pk, user=bob, expected_version=held.version)

    outcome = review_bulk_decide(
        item_ids=[i.pk for i in low] + [high.pk, held.pk, "nope"], user=alice, decision="dismissed"
    )
    assert sorted(i.external_post_id for i in outcome.decided) == ["low-0", "low-1", "low-2"]
    assert {k: v.code for k, v in outcome.failed.items()} == {
        str(high.pk): "note_required",
        str(held.pk): "review_claimed",
        "nope": "not_found",
    }
    grouped = AuditEntry.objects.filter(group_id=outcome.group_id)
    assert sorted(grouped.values_list("action", flat=True)) == ["review.bulk_decide"] + ["review.decide"] * 3
    summary = grouped.get(action="review.bulk_decide")
    assert summary.description == "alice dismissed 3 item(s) in one bulk action, 3 skipped."
    assert summary.after["failed"][str(high.pk)] == "note_required"
    assert ReviewItem.objects.filter(status="resolved").count() == 3


def test_bulk_with_stale_versions_conflicts_per_item(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    first, second = (_item(platform, face_jpeg, post=p, probability=0.1) for p in ("p1", "p2"))
    seen = {str(first.pk): first.version, str(second.pk): second.version}
    review_decide(item_id=second.pk, user=bob, decision="confirmed", expected_version=second.version)
    outcome = review_bulk_decide(
        item_ids=[first.pk, second.pk], user=alice, decision="dismissed", expected_versions=seen
    )
    assert [i.pk for i in outcome.decided] == [first.pk]
    assert outcome.failed[str(second.pk)].code == "review_conflict"
    assert "bob confirmed" in outcome.failed[str(second.pk)].message


def test_bulk_limits(platform: Platform, alice: AbstractBaseUser, settings) -> None:
    settings.FAKEME_REPORTS = {**settings.FAKEME_REPORTS, "BULK_MAX_ITEMS": 2}
    assert _error(lambda: review_bulk_decide(item_ids=[], user=alice, decision="dismissed")).code == "invalid"
    ids = ["a", "b", "c"]
    assert (
        _error(lambda: review_bulk_decide(item_ids=ids, user=alice, decision="dismissed")).code == "invalid"
    )


# -- reporter accuracy -------------------------------------------------------------------------
def test_reporter_accuracy_counts_after_five_decisions_and_moves_scores(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    """A reporter whose reports keep being rejected stops raising scores; a reliable one raises them more."""
    waiting_liar = _item(platform, face_jpeg, post="w-liar", reporters=["liar"], probability=0.5)
    waiting_good = _item(platform, face_jpeg, post="w-good", reporters=["good"], probability=0.5)
    neutral = waiting_liar.score
    assert waiting_good.score == neutral

    for i in range(4):
        for reporter, decision in (("liar", "dismissed"), ("good", "confirmed")):
            item = _item(platform, face_jpeg, post=f"{reporter}-{i}", reporters=[reporter], probability=0.1)
            review_decide(
                item_id=item.pk, user=alice, decision=decision, expected_version=item.version, note="n"
            )
    waiting_liar.refresh_from_db()
    waiting_good.refresh_from_db()
    assert waiting_liar.score == neutral and waiting_good.score == neutral  # 4 decided: not yet counted

    for reporter, decision in (("liar", "dismissed"), ("good", "confirmed")):
        item = _item(platform, face_jpeg, post=f"{reporter}-last", reporters=[reporter], probability=0.1)
        review_decide(item_id=item.pk, user=alice, decision=decision, expected_version=item.version, note="n")
    waiting_liar.refresh_from_db()
    waiting_good.refresh_from_db()
    assert waiting_liar.score < neutral < waiting_good.score
    assert ReporterStats.objects.get(reporter_id="liar").rejected == 5


def test_other_platforms_reporter_records_are_separate(face_jpeg: bytes, alice: AbstractBaseUser) -> None:
    one, two = PlatformFactory(), PlatformFactory()
    item = _item(one, face_jpeg, reporters=["same-id"])
    review_decide(item_id=item.pk, user=alice, decision="confirmed", expected_version=item.version)
    assert ReporterStats.objects.get(agreed=1).platform == one
    other = _item(two, face_jpeg, reporters=["same-id"])
    # two's counter row for the reporter (the lock of report intake) holds no decision of one's
    assert ReporterStats.objects.get(platform=two).decided == 0 and other.distinct_reporters == 1
