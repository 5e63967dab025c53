"""Uncertain scans go to people: the review item a scan in the uncertain band opens by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan
from reports.models import ReviewItem
from reports.services.reports import report_create
from tests.support.scans import upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def _scan(client: APIClient, data: bytes, path: str = SCANS, **fields: object) -> dict:
    response = client.post(path, {"media": upload("p.jpg", data), **fields}, format="multipart")
    assert response.status_code in (200, 202), response.content
    return response.json()


@pytest.fixture
def banded(api: APIClient, platform: Platform, face_jpeg: bytes) -> Platform:
    """``platform`` with thresholds that put the face photo's score in the middle of the band."""
    p = _scan(api, face_jpeg)["probability"]
    platform.threshold, platform.review_threshold = p + (1.0 - p) / 2, p / 2
    platform.save()
    return platform


def test_an_uncertain_scan_opens_a_review_item_before_anyone_reports(
    api: APIClient, banded: Platform, face_jpeg: bytes
) -> None:
    body = _scan(api, face_jpeg, external_id="post-1")
    assert body["verdict"] == "uncertain" and body["tagged"] is False
    item = ReviewItem.objects.get(platform=banded, external_post_id="post-1")
    assert (item.kind, item.status, item.category) == ("report", "open", "model_uncertain")
    assert str(item.scan_id) == body["id"] and item.probability == pytest.approx(body["probability"])
    assert (item.report_count, item.distinct_reporters) == (0, 0) and item.score > 0
    entry = AuditEntry.objects.get(action="review.auto_open")
    assert entry.target_id == str(item.pk) and "post-1" in entry.description
    # The same post scanned again: still one item; a certain verdict opens none.
    _scan(api, face_jpeg, external_id="post-1")
    assert ReviewItem.objects.filter(external_post_id="post-1").count() == 1
    banded.threshold, banded.review_threshold = 0.999, 0.998
    banded.save()
    _scan(api, face_jpeg, external_id="post-2")
    assert not ReviewItem.objects.filter(external_post_id="post-2").exists()


def test_a_user_report_joins_the_item_the_model_opened(
    api: APIClient, banded: Platform, face_jpeg: bytes
) -> None:
    scan_id = _scan(api, face_jpeg, external_id="post-1")["id"]
    auto = ReviewItem.objects.get(external_post_id="post-1")
    item = report_create(
        platform=banded,
        external_post_id="post-1",
        reporter_id="u-1",
        category="impersonation",
        scan_id=scan_id,
    ).item
    assert item.pk == auto.pk
    item.refresh_from_db()
    assert (item.category, item.report_count) == ("impersonation", 1)


def test_routing_can_be_turned_off_and_needs_a_post_id(
    api: APIClient, banded: Platform, face_jpeg: bytes
) -> None:
    assert _scan(api, face_jpeg)["verdict"] == "uncertain"  # no external_id: nothing to refer to
    banded.review_uncertain = False
    banded.save()
    assert _scan(api, face_jpeg, external_id="post-1")["verdict"] == "uncertain"
    assert not ReviewItem.objects.exists()


def test_a_queued_scan_that_ends_uncertain_opens_the_item_too(
    api: APIClient, banded: Platform, face_jpeg: bytes, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        queued = _scan(api, face_jpeg, path=f"{SCANS}?async=1", external_id="post-q")
    assert Scan.objects.get(pk=queued["id"]).verdict == "uncertain"
    item = ReviewItem.objects.get(external_post_id="post-q")
    assert item.category == "model_uncertain" and str(item.scan_id) == queued["id"]


def test_users_cannot_report_a_post_as_model_uncertain(api: APIClient, face_jpeg: bytes) -> None:
    response = api.post(
        "/api/v1/reports",
        {
            "external_id": "post-1",
            "reporter_id": "u-1",
            "category": "model_uncertain",
            "media": upload("p.jpg", face_jpeg),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "category" in response.json()["error"]["fields"]
    assert not ReviewItem.objects.exists()
