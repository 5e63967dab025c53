"""Video scans through a real Celery worker process: Redis broker, the test database, the real model.

Needs REDIS_URL (a Redis the worker uses as its broker) and a database a second process can open
(PostgreSQL; the default in-memory SQLite test database cannot be shared). ``.ci/run`` provides both.
Each worker consumes its own uniquely named queue, so stray messages in Redis cannot reach it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from rest_framework.test import APIClient

from moderation.celery import app as celery_app
from moderation.core.models import Platform, WebhookDelivery
from moderation.scans.models import Scan
from tests.detection.fakeme_media import moving_face_frame, write_video
from tests.support.scans import LocalServer, upload, verify_standard_webhook

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
SCANS = "/api/v1/scans"
WORKER_START_TIMEOUT_S = 240
SCAN_TIMEOUT_S = 300

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the worker must see committed rows
    pytest.mark.skipif(
        not REDIS_URL, reason="REDIS_URL is not set: the real-worker tests need a Redis broker"
    ),
]


def _database_url() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            f"the worker process cannot open this test database ({connection.vendor}); "
            "set DATABASE_URL=postgres://... to run the real-worker tests"
        )
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    media_root: Path
    log: Path

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _start_worker(tmp: Path, weights: Path, pool: str) -> Worker:
    queue = f"fakeme-test-{uuid.uuid4().hex[:12]}"
    media_root = tmp / "media"
    log = tmp / f"worker-{pool}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "moderation.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_DEFAULT_QUEUE": queue,
        "CELERY_INFERENCE_QUEUE": queue,
        "DETECTOR_WEIGHTS": str(weights),
        "DETECTOR_THREADS": "1",
        "MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "moderation", "worker", f"--pool={pool}", "-c", "1",
               "-Q", queue, "-n", f"{queue}@%h", "--loglevel=INFO",
               "--without-heartbeat", "--without-mingle", "--without-gossip"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    worker = Worker(process, queue, media_root, log)
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = worker.log_text()
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {process.returncode}:\n{text[-3000:]}")
        if " ready." in text and "detector loaded" in text:
            return worker
        time.sleep(0.2)
    _stop_worker(worker)
    pytest.fail(
        f"the Celery worker was not ready within {WORKER_START_TIMEOUT_S} s:\n{worker.log_text()[-3000:]}"
    )


def _stop_worker(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(30)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(10)
    import redis

    redis.Redis.from_url(REDIS_URL).delete(worker.queue)


def _reset_broker_clients() -> None:
    """Forget cached broker connections, router and queues, so the current conf takes effect."""
    celery_app.__dict__.pop("amqp", None)
    celery_app._pool = None


@contextmanager
def sending_to(worker: Worker, settings: Any) -> Iterator[None]:
    """Make this test process publish to the worker's broker and queue, and share its media folder."""
    settings.MEDIA_ROOT = worker.media_root
    keys = ("broker_url", "task_always_eager", "task_default_queue", "task_routes")
    saved = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(
        broker_url=REDIS_URL,
        task_always_eager=False,
        task_default_queue=worker.queue,
        task_routes={"moderation.scan_process": {"queue": worker.queue}},
    )
    _reset_broker_clients()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _reset_broker_clients()


@pytest.fixture(scope="module")
def long_face_video(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    """30 s at 4 fps, 320x240, a face sliding across: 60 frames sampled at 2 fps (long enough to watch)."""
    import cv2

    head = cv2.resize(astronaut[0:300, 100:400], (120, 120), interpolation=cv2.INTER_AREA)
    path = tmp_path_factory.mktemp("worker-video") / "long.mp4"
    return write_video(path, lambda i: moving_face_frame(head, i, 120), 120, fps=4.0)


@pytest.fixture(scope="module")
def solo_worker(
    django_db_setup: None, django_db_blocker: Any, scan_weights: Path, tmp_path_factory
) -> Iterator[Worker]:
    """``celery -A moderation worker --pool=solo -c 1``, as a separate process."""
    with django_db_blocker.unblock():
        worker = _start_worker(tmp_path_factory.mktemp("solo-worker"), scan_weights, "solo")
    yield worker
    _stop_worker(worker)


def _watch(api: APIClient, scan_id: str, worker: Worker) -> list[dict[str, Any]]:
    """Poll GET /scans/{id} until the scan finishes; every distinct state seen, in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    while time.monotonic() < deadline:
        body = api.get(f"{SCANS}/{scan_id}").json()
        state = {"status": body["status"], **body["progress"]}
        if not seen or seen[-1] != state:
            seen.append(state)
        if body["status"] in ("completed", "failed"):
            return seen
        time.sleep(0.05)
    pytest.fail(f"scan not finished in {SCAN_TIMEOUT_S} s; states {seen}\n{worker.log_text()[-3000:]}")


def test_video_scan_through_a_real_worker(
    settings: Any, solo_worker: Worker, api: APIClient, hooked: Platform, local_server: LocalServer,
    long_face_video: Path,
) -> None:  # fmt: skip
    with sending_to(solo_worker, settings):
        response = api.post(
            SCANS,
            {"media": upload("clip.mp4", long_face_video.read_bytes(), "video/mp4"), "hashtags": ["#v"]},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        scan_id = response.json()["id"]
        states = _watch(api, scan_id, solo_worker)

    final = api.get(f"{SCANS}/{scan_id}").json()
    assert final["status"] == "completed", (final["error"], solo_worker.log_text()[-3000:])
    assert final["progress"] == {"percent": 100, "frames_done": 60, "frames_total": 60}
    assert final["verdict"] in ("fake", "real") and final["media"][0]["result"]["frames_sampled"] == 60
    expected_tags = ["#v", "#Deepfake"] if final["verdict"] == "fake" else ["#v"]
    assert final["hashtags"] == expected_tags
    # Progress was visible while the worker ran: percentage and frames done, rising.
    running = [s for s in states if s["status"] == "processing" and 0 < s["frames_done"] < 60]
    assert running, states
    assert all(0 < s["percent"] < 100 and s["frames_total"] == 60 for s in running)
    assert [s["frames_done"] for s in running] == sorted(s["frames_done"] for s in running)

    # The worker delivered the signed webhook to the local receiver.
    received = local_server.wait_for_post(60)
    assert verify_standard_webhook(hooked.webhook_secret, received.headers, received.body)
    event = json.loads(received.body)
    assert event["type"] == "scan.completed"
    assert event["data"]["id"] == scan_id and event["data"]["verdict"] == final["verdict"]
    assert event["data"]["hashtags"] == final["hashtags"]
    deadline = time.monotonic() + 30  # the worker records the attempt just after the receiver answered
    while WebhookDelivery.objects.get(scan_id=scan_id).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    delivery = WebhookDelivery.objects.get(scan_id=scan_id)
    assert delivery.status == "succeeded" and delivery.attempts.get().status_code == 200
    # Loaded once, at worker start, not per task.
    assert solo_worker.log_text().count("detector loaded") == 1


def test_killed_worker_process_scan_is_retried(
    settings: Any, scan_weights: Path, tmp_path: Path, api: APIClient, long_face_video: Path
) -> None:
    """Prefork: kill the child running a video scan; reject_on_worker_lost requeues it and it completes."""
    worker = _start_worker(tmp_path, scan_weights, "prefork")
    try:
        with sending_to(worker, settings):
            response = api.post(
                SCANS,
                {"media": upload("clip.mp4", long_face_video.read_bytes(), "video/mp4")},
                format="multipart",
            )
            scan_id = response.json()["id"]
            deadline = time.monotonic() + SCAN_TIMEOUT_S
            while Scan.objects.get(pk=scan_id).frames_done == 0:
                assert time.monotonic() < deadline, worker.log_text()[-3000:]
                time.sleep(0.05)
            (child,) = worker.children()
            os.kill(child, signal.SIGKILL)
            _watch(api, scan_id, worker)
        scan = Scan.objects.get(pk=scan_id)
        assert scan.status == "completed", (scan.error_code, worker.log_text()[-3000:])
        assert scan.attempts == 2 and scan.frames_done == 60
    finally:
        _stop_worker(worker)
