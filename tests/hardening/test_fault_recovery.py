"""The product's answers to faults, in-process: what the fault drills (test_fault_drills.py) show on the
real stack, checked here in seconds and on any machine (no PostgreSQL/Redis binaries needed).

- a broker that cannot be reached when a scan is queued: 202 ``queued``, the row and file kept;
- ``requeue_stranded`` sends a lost scan again once its window has passed, once per window;
- one runner per scan: a second holder of the scan's run lock is refused (PostgreSQL only);
- an unreachable cache (Redis) does not fail requests: throttles let them through;
- a database error is a 503 ``database_unavailable`` in the API's JSON, not a 500 page;
- a volume that fills up half-way through a write: 507 ``storage_full``, and the partial file is gone.
"""

from __future__ import annotations

import errno
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError, connection, connections
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from moderation.core import media as media_service
from moderation.core.jobs import job_run_lock
from moderation.core.models import Platform
from moderation.core.platforms import api_key_create
from moderation.core.recovery import requeue_stranded
from moderation.scans.jobs import SCAN_JOBS
from moderation.scans.models import Scan, ScanMedia
from moderation.tasks import scan_process

SCANS = "/api/v1/scans"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "faults"}}


@pytest.fixture
def api(db: None, settings: Any, tmp_path: Path) -> APIClient:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = LOCMEM
    platform = Platform.objects.create(name=f"faults-{uuid.uuid4().hex[:10]}")
    _, raw = api_key_create(platform=platform, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    import cv2
    from skimage import data

    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(data.astronaut()[:, :, ::-1]))
    assert ok
    return encoded.tobytes()


def _queue_image(api: APIClient, jpeg: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    media = SimpleUploadedFile("face.jpg", jpeg, content_type="image/jpeg")
    return api.post(f"{SCANS}?async=1", {"media": media}, format="multipart")


def _stored(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db(transaction=True)  # the enqueue runs on commit, inside the request
def test_a_scan_queued_while_the_broker_is_down_is_accepted_and_kept(
    api: APIClient, jpeg: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(scan_process, "delay", broker_down)
    response = _queue_image(api, jpeg)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    scan = Scan.objects.get(pk=response.json()["id"])
    assert scan.status == Scan.Status.QUEUED and scan.media.count() == 1
    assert len(_stored(settings)) == 1  # kept for the recovery sweep


@pytest.mark.django_db(transaction=True)
def test_requeue_stranded_sends_a_lost_scan_again_once_per_window(
    api: APIClient, jpeg: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(scan_process, "delay", lambda scan_id: sent.append(scan_id))
    scan_id = _queue_image(api, jpeg).json()["id"]
    assert sent == [scan_id]  # sent once on submit; say the broker lost that message
    sent.clear()

    assert requeue_stranded()["scans"] == 0  # too recent: it may still be waiting in the queue
    later = timezone.now() + timedelta(seconds=settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + 1)
    assert requeue_stranded(now=later) == {"scans": 1, "generations": 0, "deliveries": 0}
    assert sent == [scan_id]
    assert requeue_stranded(now=later)["scans"] == 0  # at most once per window
    Scan.objects.filter(pk=scan_id).update(status=Scan.Status.COMPLETED)
    settings.CACHES = {**LOCMEM, "default": {**LOCMEM["default"], "LOCATION": "other"}}  # markers gone
    assert requeue_stranded(now=later)["scans"] == 0  # done: nothing to send
    assert sent == [scan_id]


@pytest.mark.django_db(transaction=True)
def test_a_broker_still_down_during_the_sweep_leaves_the_scan_for_the_next_one(
    api: APIClient, jpeg: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_process, "delay", lambda scan_id: None)
    scan_id = _queue_image(api, jpeg).json()["id"]
    later = timezone.now() + timedelta(seconds=settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + 1)

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("Connection refused.")

    monkeypatch.setattr(scan_process, "delay", broker_down)
    assert requeue_stranded(now=later)["scans"] == 0
    sent: list[str] = []
    monkeypatch.setattr(scan_process, "delay", lambda scan_id: sent.append(scan_id))
    assert requeue_stranded(now=later)["scans"] == 1 and sent == [scan_id]  # not marked as sent before


@pytest.mark.django_db(transaction=True)
def test_without_run_locks_a_scan_left_processing_is_sent_again_after_its_hard_time_limit(
    api: APIClient, jpeg: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded database has no run lock to ask whether a run is alive. A scan still ``processing``
    past the task's hard time limit has lost its run (a worker kills a run there; an embedded process
    that died left it so), and the sweep sends it again."""
    sent: list[str] = []
    monkeypatch.setattr(scan_process, "delay", lambda scan_id: sent.append(scan_id))
    scan_id = _queue_image(api, jpeg).json()["id"]
    started = timezone.now()
    Scan.objects.filter(pk=scan_id).update(status=Scan.Status.PROCESSING, started_at=started, attempts=1)
    sent.clear()
    monkeypatch.setattr(connection, "vendor", "sqlite")  # whatever the test database: no advisory locks
    past_window = settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + settings.FAKEME_SCANS["SCAN_TIME_LIMIT_S"]
    assert requeue_stranded(now=started + timedelta(seconds=past_window - 5))["scans"] == 0  # may still run
    assert requeue_stranded(now=started + timedelta(seconds=past_window + 5))["scans"] == 1
    assert sent == [scan_id]


@pytest.mark.django_db(transaction=True)
def test_one_runner_per_scan(api: APIClient) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the scan run lock is a PostgreSQL advisory lock (embedded SQLite runs tasks in-process)")
    scan_id = uuid.uuid4()
    seen: list[bool] = []

    def other_process() -> None:  # another thread: another database session, as another worker
        try:
            with job_run_lock(SCAN_JOBS, scan_id) as held:
                seen.append(held)
        finally:
            connections.close_all()

    with job_run_lock(SCAN_JOBS, scan_id) as held:
        assert held
        thread = threading.Thread(target=other_process)
        thread.start()
        thread.join(30)
    thread = threading.Thread(target=other_process)
    thread.start()
    thread.join(30)
    assert seen == [False, True]  # refused while held; free once released


@pytest.mark.django_db
def test_an_unreachable_cache_does_not_fail_requests(api: APIClient, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = api.get(SCANS)
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_a_database_error_is_a_503_json_answer(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def database_down(**kwargs: Any) -> None:
        raise OperationalError('connection to server at "db" failed: Connection refused')

    monkeypatch.setattr("moderation.scans.api.views.scan_list", database_down)
    response = api.get(SCANS)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


class HalfFullStorage(FileSystemStorage):
    """A volume that fills up during the write: half the file lands on disk, then ENOSPC (as the
    FileSystemStorage leaves it: Django does not remove a partial file)."""

    def _save(self, name: str, content: Any) -> str:
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.read()
        path.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.django_db
def test_a_volume_full_mid_write_is_a_507_and_leaves_no_partial_file(
    api: APIClient, jpeg: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_service, "default_storage", HalfFullStorage(location=settings.MEDIA_ROOT))
    response = _queue_image(api, jpeg)
    assert response.status_code == 507, response.content
    assert response.json()["error"]["code"] == "storage_full"
    assert _stored(settings) == []
    assert not Scan.objects.exists() and not ScanMedia.objects.exists()
