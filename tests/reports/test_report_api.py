"""POST/GET /api/v1/reports: intake by file, URL or scan id, the re-scan, dedup per post, the
per-reporter rate limit, validation that leaves nothing behind, and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from moderation.core.media import media_delete
from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan, ScanMedia
from reports.models import Report, ReviewItem
from reports.services.review_decisions import review_decide
from tests.support.reports import scanned_post
from tests.support.scans import LocalServer, PlatformFactory, stored_files, upload

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports"


def _report(api: APIClient, **fields):  # type: ignore[no-untyped-def]
    data = {"external_id": "post-1", "reporter_id": "u1", "category": "unlabelled_deepfake", **fields}
    return api.post(REPORTS, data, format="multipart" if "media" in data else "json")


def test_report_by_upload_queues_a_rescan_that_updates_the_item(
    api: APIClient, platform: Platform, face_jpeg: bytes, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _report(api, media=upload("post.jpg", face_jpeg), comment="This is my face, not me.")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{REPORTS}/{body['id']}"
    assert body["external_id"] == "post-1" and body["reporter_id"] == "u1" and body["outcome"] == "pending"
    assert body["comment"] == "This is my face, not me." and body["duplicate"] is False
    assert body["review"]["status"] == "open" and body["review"]["decision"] is None
    assert body["review"]["hashtags"] is None

    rescan = Scan.objects.get(pk=body["scan_id"])  # the re-scan ran (eager Celery) with the real detector
    assert rescan.mode == "async" and rescan.status == "completed" and rescan.external_id == "post-1"
    assert rescan.probability is not None
    item = ReviewItem.objects.get(pk=body["review"]["id"])
    assert item.scan == rescan and item.probability == rescan.probability
    assert item.distinct_reporters == 1 and item.report_count == 1
    rescored = AuditEntry.objects.get(action="review.rescan", target_id=str(item.pk))
    assert f"P(fake) {rescan.probability:.2f}" in rescored.description and rescored.actor is None

    assert api.get(response["Location"]).json() == body


def test_report_by_url(
    api: APIClient, platform: Platform, local_server: LocalServer, face_jpeg: bytes
) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    local_server.files["/p.jpg"] = face_jpeg
    response = _report(api, media_url=local_server.url("/p.jpg"), category="impersonation")
    assert response.status_code == 201, response.content
    media = ScanMedia.objects.get(scan_id=response.json()["scan_id"])
    assert media.source_url == local_server.url("/p.jpg") and media.storage_key


def test_report_by_scan_id_copies_the_media_and_keeps_the_post_context(
    api: APIClient, platform: Platform, face_jpeg: bytes, media_root: Path
) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg, probability=0.8, hashtags=["#a"])
    response = _report(api, scan_id=str(scan.pk))
    assert response.status_code == 201, response.content
    rescan = Scan.objects.get(pk=response.json()["scan_id"])
    assert rescan.status == "queued" and rescan.hashtags_in == ["#a"] and rescan.author_id == "author-1"
    original, copy = scan.media.get(), rescan.media.get()
    assert copy.sha256 == original.sha256 and copy.storage_key != original.storage_key
    assert len(stored_files(media_root)) == 2  # retention of one scan must not delete the other's file
    item = ReviewItem.objects.get()
    assert item.scan == scan and item.probability == 0.8  # the latest completed scan counts until the re-scan


def test_reports_on_one_post_make_one_item_whose_score_rises(
    api: APIClient, platform: Platform, face_jpeg: bytes
) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg, probability=0.4)
    scores = []
    for reporter, category in (("u1", "other"), ("u2", "unlabelled_deepfake"), ("u3", "other")):
        response = _report(api, reporter_id=reporter, category=category, scan_id=str(scan.pk))
        assert response.status_code == 201
        scores.append(ReviewItem.objects.get().score)
    assert scores[0] < scores[1] < scores[2]
    item = ReviewItem.objects.get()
    assert item.distinct_reporters == 3 and item.report_count == 3
    assert item.category == "unlabelled_deepfake"  # the most severe reported
    assert Report.objects.filter(review_item=item).count() == 3

    again = _report(api, reporter_id="u4", category="non_consensual", scan_id=str(scan.pk))
    assert ReviewItem.objects.get().category == "non_consensual" and again.json()["review"]["id"] == str(
        item.pk
    )


def test_the_same_reporter_twice_is_a_duplicate(api: APIClient, platform: Platform, face_jpeg: bytes) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg)
    first = _report(api, scan_id=str(scan.pk)).json()
    scans_before = Scan.objects.count()
    second = _report(api, scan_id=str(scan.pk), category="other")
    assert second.status_code == 200
    assert second.json()["id"] == first["id"] and second.json()["duplicate"] is True
    assert Report.objects.count() == 1 and Scan.objects.count() == scans_before  # no second re-scan
    assert ReviewItem.objects.get().distinct_reporters == 1


def test_a_report_after_the_decision_starts_a_new_item(
    api: APIClient, platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg)
    first = _report(api, scan_id=str(scan.pk)).json()
    item = ReviewItem.objects.get(pk=first["review"]["id"])
    review_decide(item_id=item.pk, user=alice, decision="dismissed", expected_version=item.version, note="ok")
    again = _report(api, scan_id=str(scan.pk)).json()  # the same reporter, a new round
    assert again["review"]["id"] != first["review"]["id"] and again["duplicate"] is False
    assert ReviewItem.objects.filter(external_post_id="post-1").count() == 2


def test_reporter_rate_limit(
    api: APIClient, platform: Platform, face_jpeg: bytes, settings, media_root: Path
) -> None:
    settings.FAKEME_REPORTS = {**settings.FAKEME_REPORTS, "REPORTER_RATE_LIMIT": "2/hour"}
    for post in ("a", "b"):
        assert _report(api, external_id=post, media=upload("p.jpg", face_jpeg)).status_code == 201
    files_before, scans_before = len(stored_files(media_root)), Scan.objects.count()

    refused = _report(api, external_id="c", media=upload("p.jpg", face_jpeg))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "report_rate_limited" and "2 reports" in error["message"]
    assert 3500 < int(refused["Retry-After"]) <= 3601
    assert Report.objects.count() == 2 and Scan.objects.count() == scans_before
    assert len(stored_files(media_root)) == files_before
    assert not ReviewItem.objects.filter(external_post_id="c").exists()

    other = _report(api, external_id="c", reporter_id="u2", media=upload("p.jpg", face_jpeg))
    assert other.status_code == 201  # the limit is per reporter


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"category": "spam"}, 400, "invalid"),
        ({"comment": "x" * 1001}, 400, "invalid"),
        ({"reporter_id": ""}, 400, "invalid"),
        ({}, 400, "invalid"),  # no media at all
        ({"media_url": "http://127.0.0.1:9/x.jpg", "with_file": True}, 400, "invalid"),  # two sources
        ({"media": b"not an image at all"}, 415, "unsupported_media_type"),
        ({"media_url": "http://169.254.169.254/latest"}, 422, "media_url_forbidden"),
    ],
)
def test_invalid_reports_leave_nothing_behind(
    api: APIClient, face_jpeg: bytes, media_root: Path, fields: dict, status: int, code: str
) -> None:
    fields = dict(fields)
    if fields.pop("with_file", False):
        fields["media"] = upload("p.jpg", face_jpeg)
    if isinstance(fields.get("media"), bytes):
        fields["media"] = upload("p.jpg", fields["media"])
    response = _report(api, **fields)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Report.objects.exists() and not ReviewItem.objects.exists() and not Scan.objects.exists()
    assert stored_files(media_root) == []
    assert not AuditEntry.objects.filter(action="report.create").exists()


def test_a_failure_after_the_media_is_stored_removes_the_files(
    api: APIClient, platform: Platform, face_jpeg: bytes, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error after the re-scan's file was stored: no rows, and the file is gone too."""

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(Report.objects, "create", broken)
    api.raise_request_exception = False
    response = _report(api, media=upload("p.jpg", face_jpeg))
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"  # JSON
    assert stored_files(media_root) == []
    assert not Scan.objects.exists() and not ReviewItem.objects.exists()


def test_expired_scan_media_is_410(api: APIClient, platform: Platform, face_jpeg: bytes) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg)
    media = scan.media.get()
    media_delete([media.storage_key])
    ScanMedia.objects.filter(pk=media.pk).update(storage_key="")
    response = _report(api, scan_id=str(scan.pk))
    assert response.status_code == 410 and response.json()["error"]["code"] == "media_expired"
    assert not Report.objects.exists()


def test_other_platforms_scans_and_reports_are_invisible(
    api: APIClient, platform: Platform, client_for: Callable[[Platform], APIClient], face_jpeg: bytes
) -> None:
    other = PlatformFactory()
    their_scan = scanned_post(other, external_id="post-1", image=face_jpeg)
    response = _report(api, scan_id=str(their_scan.pk))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"

    theirs = _report(client_for(other), scan_id=str(their_scan.pk)).json()
    assert api.get(f"{REPORTS}/{theirs['id']}").status_code == 404
    assert api.get(f"{REPORTS}/00000000-0000-0000-0000-000000000000").status_code == 404
    # The same post id on two platforms is two posts.
    mine = scanned_post(platform, external_id="post-1", image=face_jpeg)
    assert _report(api, scan_id=str(mine.pk)).json()["review"]["id"] != theirs["review"]["id"]
    assert ReviewItem.objects.filter(platform=platform).count() == 1


def test_reports_need_an_api_key() -> None:
    response = APIClient().post(REPORTS, {"external_id": "p"}, format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_get_shows_the_decision_once_made(
    api: APIClient, platform: Platform, face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    scan = scanned_post(platform, external_id="post-1", image=face_jpeg, hashtags=["#moon"])
    report = _report(api, scan_id=str(scan.pk)).json()
    item = ReviewItem.objects.get()
    item = review_decide(item_id=item.pk, user=alice, decision="escalated", expected_version=item.version)
    escalated = api.get(f"{REPORTS}/{report['id']}").json()
    assert escalated["review"]["status"] == "escalated" and escalated["review"]["decision"] is None

    review_decide(
        item_id=item.pk, user=alice, decision="confirmed", expected_version=item.version, takedown=True
    )
    body = api.get(f"{REPORTS}/{report['id']}").json()
    assert body["outcome"] == "agreed"
    assert body["review"]["status"] == "resolved" and body["review"]["decision"] == "confirmed"
    assert body["review"]["hashtags"] == ["#moon", "#Deepfake"] and body["review"]["takedown"] is True


def test_a_failing_review_update_does_not_undo_the_rescan(
    api: APIClient,
    platform: Platform,
    face_jpeg: bytes,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    """The re-scan's result is the platform's: a bug in the review bookkeeping must not lose it."""
    import reports.signals as signals

    def broken(*, scan: Scan) -> None:
        raise RuntimeError("review bookkeeping failed")

    monkeypatch.setattr(signals, "review_item_scan_completed", broken)
    with django_capture_on_commit_callbacks(execute=True):
        body = _report(api, media=upload("post.jpg", face_jpeg)).json()
    assert Scan.objects.get(pk=body["scan_id"]).status == "completed"
    assert ReviewItem.objects.get().scan is None  # not updated, but the report and its item stand


def test_uploads_follow_the_platforms_size_limit(
    api: APIClient, platform: Platform, face_jpeg: bytes, media_root: Path
) -> None:
    platform.max_upload_bytes = len(face_jpeg) - 1
    platform.save()
    response = _report(api, media=upload("p.jpg", face_jpeg))
    assert response.status_code == 413 and response.json()["error"]["code"] == "media_too_large"
    assert not Report.objects.exists() and not Scan.objects.exists() and stored_files(media_root) == []
