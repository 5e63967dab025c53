"""Queued scans in the embedded mode (eager Celery), webhook signing, retries and recorded attempts.

The same path through a real Celery worker process is in test_scan_worker.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from moderation.celery import app as celery_app
from moderation.core.jobs import job_kind, job_notify
from moderation.core.models import Platform, WebhookAttempt, WebhookDelivery
from moderation.core.webhooks import webhook_attempt, webhook_backoff_s, webhook_sign
from moderation.scans.models import Scan
from tests.support.scans import LocalServer, upload, verify_standard_webhook

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def test_async_flag_queues_an_image(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    face_jpeg: bytes,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{SCANS}?async=1", {"media": upload("p.jpg", face_jpeg)}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    # The capture runs the task after the answer (a broker would too): the answer still says queued.
    assert body["status"] == "queued" and body["verdict"] is None and body["hashtags"] == []
    assert response["Location"] == f"{SCANS}/{body['id']}"
    done = api.get(response["Location"]).json()
    assert done["status"] == "completed" and done["verdict"] in ("fake", "real")
    assert done["progress"]["percent"] == 100
    event = json.loads(local_server.wait_for_post(5).body)
    assert event["type"] == "scan.completed" and event["data"]["id"] == body["id"]


def test_video_scan_completes_with_progress_and_signed_webhook(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    face_video: Path,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            SCANS,
            {"media": upload("clip.mp4", face_video.read_bytes(), "video/mp4"), "hashtags": ["#v"]},
            format="multipart",
        )
    assert response.status_code == 202  # videos are always queued
    scan = api.get(f"{SCANS}/{response.json()['id']}").json()
    assert scan["status"] == "completed", scan["error"]
    media = scan["media"][0]
    assert media["kind"] == "video" and media["result"]["frames_sampled"] == 24
    assert scan["progress"] == {"percent": 100, "frames_done": 24, "frames_total": 24}
    assert scan["verdict"] in ("fake", "real") and media["result"]["frames_with_faces"] > 0

    received = local_server.wait_for_post(5)
    assert received.path == "/hooks/fakeme"
    assert verify_standard_webhook(hooked.webhook_secret, received.headers, received.body)
    event = json.loads(received.body)
    assert event["data"]["id"] == scan["id"] and event["data"]["verdict"] == scan["verdict"]
    delivery = WebhookDelivery.objects.get(scan_id=scan["id"])
    assert delivery.status == "succeeded" and delivery.webhook_id == received.headers["webhook-id"]
    assert list(delivery.attempts.values_list("number", "status_code")) == [(1, 200)]


def test_unreadable_video_is_refused_before_it_is_queued(api: APIClient, media_root: Path) -> None:
    broken = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000
    response = api.post(SCANS, {"media": upload("x.mp4", broken, "video/mp4")}, format="multipart")
    assert response.status_code == 422 and response.json()["error"]["code"] == "corrupt_media"
    assert not Scan.objects.exists() and not [p for p in media_root.rglob("*") if p.is_file()]


def test_unreadable_video_fails_the_scan_and_says_why(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the submit-time check cannot see (damage past the frames it reads) fails in the worker."""
    monkeypatch.setattr("moderation.scans.submission.media_check", lambda *args, **kwargs: None)
    broken = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(SCANS, {"media": upload("x.mp4", broken, "video/mp4")}, format="multipart")
    assert response.status_code == 202
    scan = api.get(f"{SCANS}/{response.json()['id']}").json()
    assert scan["status"] == "failed" and scan["error"]["code"] in ("corrupt_media", "unsupported_media_type")
    assert json.loads(local_server.wait_for_post(5).body)["type"] == "scan.failed"


@pytest.fixture
def not_eager() -> Iterator[None]:
    """As with a broker: failed deliveries are scheduled for retry (the tests call each attempt)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = before


def _queued_scan(platform: Platform) -> Scan:
    return Scan.objects.create(platform=platform, mode=Scan.Mode.ASYNC, status=Scan.Status.COMPLETED)


def test_webhook_retries_with_backoff_and_records_every_attempt(
    hooked: Platform, local_server: LocalServer, not_eager: None
) -> None:
    local_server.post_statuses = [500, 503]
    delivery = job_notify(job_kind("scan"), _queued_scan(hooked), "completed")
    assert delivery is not None

    delays = [webhook_attempt(delivery_id=delivery.pk) for _ in range(3)]
    assert delays[0] == pytest.approx(10.0, rel=0.11) and delays[1] == pytest.approx(20.0, rel=0.11)
    assert delays[2] is None

    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert attempts[0].error == "HTTP 500" and attempts[2].error == ""
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempt_count == 3
    posts = [r for r in local_server.received if r.method == "POST"]
    assert len({r.headers["webhook-id"] for r in posts}) == 1  # the same message id on every retry
    assert len({r.body for r in posts}) == 1
    assert all(verify_standard_webhook(hooked.webhook_secret, r.headers, r.body) for r in posts)


def test_webhook_gives_up_after_max_attempts(
    settings, hooked: Platform, local_server: LocalServer, not_eager: None
) -> None:
    settings.FAKEME_SCANS = {**settings.FAKEME_SCANS, "WEBHOOK_MAX_ATTEMPTS": 2}
    local_server.post_statuses = [500, 500, 500]
    delivery = job_notify(job_kind("scan"), _queued_scan(hooked), "completed")
    assert webhook_attempt(delivery_id=delivery.pk) is not None
    assert webhook_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts.count() == 2


def test_webhook_to_a_private_address_is_refused_and_recorded(platform: Platform) -> None:
    platform.webhook_url = "http://10.20.30.40/hook"  # not allowed for this platform: never contacted
    platform.save()
    delivery = job_notify(job_kind("scan"), _queued_scan(platform), "completed")
    webhook_attempt(delivery_id=delivery.pk)
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and "non-public" in attempt.error


def test_backoff_doubles() -> None:
    for attempt, base in ((1, 10), (2, 20), (3, 40), (4, 80), (13, 6 * 3600)):  # capped at 6 h
        delays = [webhook_backoff_s(attempt) for _ in range(50)]
        assert all(0.9 * base <= d <= 1.1 * base for d in delays)  # ±10 % jitter spreads retries


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    """The example from the Standard Webhooks specification."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        webhook_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_sync_scans_send_no_webhook(api: APIClient, hooked: Platform, face_jpeg: bytes) -> None:
    assert api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").status_code == 200
    assert not WebhookDelivery.objects.exists()


def test_platform_video_length_limit(
    api: APIClient, platform: Platform, face_video: Path, media_root: Path
) -> None:
    platform.max_video_seconds = 5  # the clip lasts 12 s: refused before it is stored or queued
    platform.save()
    response = api.post(
        SCANS, {"media": upload("v.mp4", face_video.read_bytes(), "video/mp4")}, format="multipart"
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "video_too_long"
    assert not Scan.objects.exists() and not [p for p in media_root.rglob("*") if p.is_file()]


def test_platform_video_length_limit_holds_in_the_worker(
    api: APIClient,
    platform: Platform,
    face_video: Path,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a long clip get past the submit-time check, the worker stops it at the same limit."""
    monkeypatch.setattr("moderation.scans.submission.media_check", lambda *args, **kwargs: None)
    platform.max_video_seconds = 5
    platform.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            SCANS, {"media": upload("v.mp4", face_video.read_bytes(), "video/mp4")}, format="multipart"
        )
    scan = api.get(f"{SCANS}/{response.json()['id']}").json()
    assert scan["status"] == "failed" and scan["error"]["code"] == "video_too_long"
    assert scan["verdict"] is None and scan["hashtags"] == []  # a list, as in every state
