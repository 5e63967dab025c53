"""Optimistic locking under real concurrency (PostgreSQL): two moderators deciding the same item at
the same moment in two threads, each on its own connection; exactly one wins."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform
from moderation.provenance.models import BankEntry
from reports.models import ReviewItem
from reports.services.review_claims import review_claim
from reports.services.review_decisions import review_decide
from tests.support.reports import moderator, reported_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks (DATABASE_URL=postgres://...)"
    ),
]


def _race(calls: list[Callable[[], ReviewItem]]) -> list[ReviewItem | ApplicationError]:
    barrier = threading.Barrier(len(calls))
    results: list[ReviewItem | ApplicationError | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(5)
            results[i] = calls[i]()
        except ApplicationError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def test_simultaneous_decisions_have_one_winner(platform: Platform, face_jpeg: bytes) -> None:
    alice, bob = moderator("alice"), moderator("bob")
    for round_ in range(3):  # a few rounds: the outcome must never depend on timing
        item = reported_post(platform, external_id=f"post-{round_}", image=face_jpeg, probability=0.3)
        item_id = item.pk  # bound per round (the lambdas run in this iteration only)
        shown = [item.scan.media.get().sha256]
        results = _race(
            [
                lambda item_id=item_id, shown=shown: review_decide(
                    item_id=item_id, user=alice, decision="confirmed", expected_version=1, bank_media=shown
                ),
                lambda item_id=item_id, shown=shown: review_decide(
                    item_id=item_id,
                    user=bob,
                    decision="dismissed",
                    expected_version=1,
                    allow_bank=True,
                    note="n",
                    bank_media=shown,
                ),
            ]
        )
        winners = [r for r in results if isinstance(r, ReviewItem)]
        losers = [r for r in results if isinstance(r, ApplicationError)]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].code == "review_conflict"
        winner = winners[0]
        assert f"{winner.decided_by.username} {winner.decision}" in losers[0].message
        stored = ReviewItem.objects.get(pk=item.pk)
        assert stored.decision == winner.decision and stored.version == 2
        decisions = AuditEntry.objects.filter(action="review.decide", target_id=str(item.pk))
        assert decisions.count() == 1  # only the winner's side effects
        bank = BankEntry.objects.filter(scan_media__scan__external_id=f"post-{round_}")
        assert list(bank.values_list("bank", flat=True)) == (
            ["known_fake"] if winner.decision == "confirmed" else ["allow"]
        )
        BankEntry.objects.all().delete()  # the next round's media is the same picture


def test_simultaneous_claims_have_one_winner(platform: Platform, face_jpeg: bytes) -> None:
    alice, bob = moderator("alice"), moderator("bob")
    item = reported_post(platform, external_id="post-1", image=face_jpeg)
    results = _race(
        [
            lambda: review_claim(item_id=item.pk, user=alice, expected_version=item.version),
            lambda: review_claim(item_id=item.pk, user=bob, expected_version=item.version),
        ]
    )
    winners = [r for r in results if isinstance(r, ReviewItem)]
    assert len(winners) == 1
    assert [r.code for r in results if isinstance(r, ApplicationError)] == ["review_conflict"]
    assert ReviewItem.objects.get(pk=item.pk).assignee == winners[0].assignee
