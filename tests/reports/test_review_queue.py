"""The review queue's selectors: the priority score, sorting, every filter, bounded query counts,
and an item's history (earlier rounds, reports, scans, audit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from reports.models import ReviewItem
from reports.selectors import review_item_get, review_item_history, review_queue
from reports.services.priority import review_score_breakdown, score_report
from reports.services.review_claims import review_claim
from reports.services.review_decisions import review_decide
from tests.support.reports import reported_post
from tests.support.scans import PlatformFactory

pytestmark = pytest.mark.django_db


def _posts(queryset) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.external_post_id for item in queryset]


def test_score_combines_model_reporters_and_category() -> None:
    base = score_report(probability=0.5, category="other", trusts=[0.5]).score
    assert score_report(probability=0.9, category="other", trusts=[0.5]).score > base  # model
    assert score_report(probability=0.5, category="other", trusts=[0.5, 0.5]).score > base  # reporters
    assert score_report(probability=0.5, category="non_consensual", trusts=[0.5]).score > base  # category
    assert score_report(probability=0.5, category="other", trusts=[1.0]).score > base  # trusted reporter
    assert score_report(probability=0.5, category="other", trusts=[0.5, 0.0]).score == base  # ignored
    top = score_report(probability=1.0, category="non_consensual", trusts=[1.0] * 30).score
    assert 99 < top <= 100
    assert score_report(probability=None, category="other", trusts=[]).model == 0.5


def test_queue_sorts_by_score_and_by_age(platform: Platform, face_jpeg: bytes) -> None:
    low = reported_post(platform, external_id="low", image=face_jpeg, probability=0.1)
    high = reported_post(
        platform, external_id="high", image=face_jpeg, probability=0.95, reporters=["a", "b"]
    )
    mid = reported_post(platform, external_id="mid", image=face_jpeg, probability=0.5)
    assert high.score > mid.score > low.score
    assert _posts(review_queue()) == ["high", "mid", "low"]
    assert _posts(review_queue(order="score")) == ["low", "mid", "high"]
    assert _posts(review_queue(order="created_at")) == ["low", "high", "mid"]  # oldest first
    assert _posts(review_queue(order="-created_at")) == ["mid", "high", "low"]
    with pytest.raises(ApplicationError) as caught:
        review_queue(order="random")
    assert caught.value.code == "invalid"


def test_queue_filters(face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    one, two = PlatformFactory(), PlatformFactory()
    fake = reported_post(one, external_id="fake", image=face_jpeg, verdict="fake", probability=0.9)
    nc = reported_post(one, external_id="nc", image=face_jpeg, category="non_consensual")
    claimed = reported_post(two, external_id="claimed", image=face_jpeg, category="impersonation")
    done = reported_post(two, external_id="done", image=face_jpeg, probability=0.1)
    review_claim(item_id=claimed.pk, user=alice, expected_version=claimed.version)
    review_decide(item_id=done.pk, user=bob, decision="dismissed", expected_version=done.version)
    review_decide(item_id=nc.pk, user=bob, decision="escalated", expected_version=nc.version)
    ReviewItem.objects.filter(pk=fake.pk).update(created_at=timezone.now() - timedelta(days=3))

    def posts(**filters) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(_posts(review_queue(**filters)))

    assert posts() == ["claimed", "fake", "nc"]  # active by default
    assert posts(status=None) == ["claimed", "done", "fake", "nc"]
    assert posts(status="resolved") == ["done"]
    assert posts(status="open,escalated") == ["claimed", "fake", "nc"]
    assert posts(status=["escalated"]) == ["nc"]
    assert posts(platform=one) == ["fake", "nc"] and posts(platform=str(two.pk)) == ["claimed"]
    assert posts(category="non_consensual") == ["nc"]
    assert posts(category=["impersonation", "non_consensual"]) == ["claimed", "nc"]
    assert posts(assignee=alice) == ["claimed"] and posts(assignee=str(alice.pk)) == ["claimed"]
    assert posts(assignee="none") == ["fake", "nc"]
    assert posts(status=None, assignee=bob) == ["done"]  # deciding claims
    assert posts(verdict="fake") == ["fake"] and posts(verdict="real") == ["claimed", "nc"]
    assert posts(status=None, decision="dismissed") == ["done"]
    assert posts(decision="escalated") == ["nc"]
    assert posts(kind="appeal") == []
    today = timezone.localdate()
    assert posts(date_from=today) == ["claimed", "nc"]
    assert posts(date_to=today - timedelta(days=1)) == ["fake"]
    assert posts(date_from=(timezone.now() - timedelta(days=4)).isoformat(), date_to=today.isoformat()) == [
        "claimed",
        "fake",
        "nc",
    ]
    for bad in (
        {"status": "closed"},
        {"category": "spam"},
        {"assignee": "x"},
        {"platform": "p"},
        {"date_to": "?"},
    ):
        with pytest.raises(ApplicationError) as caught:
            review_queue(**bad)
        assert caught.value.code == "invalid" and set(caught.value.fields) == set(bad)


def test_queue_costs_one_query_whatever_its_length(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, django_assert_num_queries
) -> None:
    for i in range(6):
        item = reported_post(platform, external_id=f"p{i}", image=face_jpeg)
        review_claim(item_id=item.pk, user=alice, expected_version=item.version)
    with django_assert_num_queries(1):
        rows = [(i.platform.name, i.assignee.username, i.scan.verdict, i.decided_by) for i in review_queue()]
    assert len(rows) == 6


def test_item_and_its_history(
    platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser, django_assert_num_queries
) -> None:
    first = reported_post(platform, external_id="post", image=face_jpeg, probability=0.2)
    review_decide(item_id=first.pk, user=alice, decision="dismissed", expected_version=1)
    second = reported_post(platform, external_id="post", image=face_jpeg, reporters=["x", "y"])
    reported_post(platform, external_id="another", image=face_jpeg)

    item = review_item_get(item_id=second.pk)
    with django_assert_num_queries(0):
        assert [r.reporter_id for r in item.reports.all()] == ["x", "y"]
        assert all(r.scan.status == "queued" for r in item.reports.all())
    with django_assert_num_queries(5):  # items, reports, scans, their media, audit
        history = review_item_history(item=item)
    assert [i.pk for i in history.items] == [first.pk, second.pk]
    assert [r.reporter_id for r in history.reports] == ["reporter-1", "x", "y"]
    assert len(history.scans) == 5 and all(
        s.external_id == "post" for s in history.scans
    )  # 2 posted + 3 re-scans
    assert [e.action for e in history.audit] == [
        "report.create",
        "review.decide",
        "report.create",
        "report.create",
    ]
    with pytest.raises(ApplicationError) as caught:
        review_item_get(item_id="nope")
    assert caught.value.status == 404


def test_score_breakdown_explains_the_stored_score(platform: Platform, face_jpeg: bytes) -> None:
    item = reported_post(platform, external_id="p", image=face_jpeg, reporters=["a", "b"], probability=0.8)
    breakdown = review_score_breakdown(item)
    assert breakdown.score == item.score and breakdown.model == 0.8
    assert dict(breakdown.trusts) == {"a": 0.5, "b": 0.5}
    assert breakdown.as_dict()["reporters"] == pytest.approx(1 - 0.75**2)
