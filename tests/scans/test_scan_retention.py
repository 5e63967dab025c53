"""Retention: stored media are deleted after the platform's period; rows keep hashes and verdicts."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from tests.support.scans import PlatformFactory, stored_files, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def test_expired_media_are_deleted_by_the_purge(
    api: APIClient, platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes, media_root: Path
) -> None:
    platform.retention_days = 7
    platform.save()
    old = api.post(SCANS, {"media": upload("old.jpg", face_jpeg)}, format="multipart").json()
    new = api.post(SCANS, {"media": upload("new.jpg", no_face_jpeg)}, format="multipart").json()
    Scan.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(days=8))
    assert len(stored_files(media_root)) == 2

    out = io.StringIO()
    call_command("purge_expired_media", stdout=out)
    assert "deleted 1 media" in out.getvalue()

    assert [p.name for p in stored_files(media_root)] == [
        Path(ScanMedia.objects.get(scan_id=new["id"]).storage_key).name
    ]
    row = ScanMedia.objects.get(scan_id=old["id"])
    assert row.storage_key == "" and row.deleted_at is not None and len(row.sha256) == 64 and row.pdq
    body = api.get(f"{SCANS}/{old['id']}").json()
    assert body["media"][0]["stored"] is False and body["verdict"] == old["verdict"]
    response = api.get(f"{SCANS}/{old['id']}/media/0")
    assert response.status_code == 410 and response.json()["error"]["code"] == "media_expired"
    call_command("purge_expired_media", stdout=io.StringIO())  # idempotent
    assert len(stored_files(media_root)) == 1


def test_the_purge_logs_each_platforms_own_count(
    client_for: Callable[[Platform], APIClient],
    face_jpeg: bytes,
    no_face_jpeg: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operator reading the log must see what each platform lost, not a running total."""
    counts = {"alpha": 2, "beta": 1}
    for name, n in counts.items():
        platform = PlatformFactory(name=name, retention_days=7)
        api = client_for(platform)
        for i in range(n):
            media = face_jpeg if i % 2 == 0 else no_face_jpeg
            api.post(SCANS, {"media": upload(f"{name}{i}.jpg", media)}, format="multipart")
    Scan.objects.update(created_at=timezone.now() - timedelta(days=8))

    with caplog.at_level("INFO", logger="moderation.core.retention"):
        call_command("purge_expired_media", stdout=io.StringIO())

    logged = {
        line.rsplit(" for ", 1)[1]: line.split()[1]
        for line in (r.getMessage() for r in caplog.records)
        if " scan media deleted up to " in line
    }
    assert logged == {name: str(n) for name, n in counts.items()}


def test_retention_runs_periodically_and_celery_is_configured_for_reliability() -> None:
    import moderation.tasks  # noqa: F401  (workers import it through autodiscovery)
    from moderation.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert any(entry["task"] == "moderation.media_retention_purge" for entry in schedule.values())
    conf = app.conf
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] >= 3600
    task = app.tasks["moderation.scan_process"]
    assert task.acks_late and task.reject_on_worker_lost
    # Redis must not hand a running scan to a second worker: visibility outlasts the longest task.
    assert task.soft_time_limit < task.time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.task_routes["moderation.scan_process"]["queue"] == settings.FAKEME_INFERENCE_QUEUE
