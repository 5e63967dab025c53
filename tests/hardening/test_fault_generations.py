"""Generations through a broker outage, like scans (test_fault_recovery.py): the row is the truth.

- asked for (or regenerated) while the broker cannot be reached: 202 ``queued``, one row per request
  and its input files kept, a warning logged, no 500;
- the ``requeue_stranded`` sweep (the management command and the beat task) sends it once its window
  has passed, and it completes exactly once: one output file, one known-fake bank entry, one webhook;
- a duplicate message changes nothing, for a completed generation (its status) and, on PostgreSQL,
  for one that is running (its run lock, held here by another database session as a worker would);
  once that worker is gone the sweep sends the ``processing`` generation again and it completes.

The broker is a real Redis URL on a closed port (the client's own connect and retry path raises);
the sweep's tasks then run in-process (eager Celery), as in the embedded mode.
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from generation.models import Generation
from generation.services.jobs import GENERATION_JOBS, generation_is_running
from generation.tasks import generation_run
from moderation import tasks as moderation_tasks
from moderation.celery import app as celery_app
from moderation.core.jobs import job_run_lock
from moderation.core.models import Platform, WebhookDelivery
from moderation.core.platforms import api_key_create
from moderation.core.recovery import requeue_stranded
from moderation.provenance.models import BankEntry
from watermark.ids import payload_for_generation_id

GENERATIONS = "/api/v1/generations"
CONSENT = "Both people in these photos agreed in writing to this swap, for a fault drill."
CLOSED_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def _locmem(location: str) -> dict[str, Any]:
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}}


@contextmanager
def _celery(**conf: Any) -> Iterator[None]:
    """The Celery app with ``conf`` for the block. Its broker pools are set aside meanwhile: a pool made
    earlier (for another broker URL) would otherwise carry the messages, and one made for the closed
    port must not outlive the block."""
    saved = {key: celery_app.conf[key] for key in conf}
    pools = celery_app._pool, celery_app.amqp._producer_pool
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app.conf.update(conf)
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        celery_app._pool, celery_app.amqp._producer_pool = pools


def broker_unreachable() -> Any:
    return _celery(task_always_eager=False, broker_url=CLOSED_BROKER)


def tasks_in_process() -> Any:
    return _celery(task_always_eager=True)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = _locmem("fault-generations")
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": None, "ARCFACE": None, "SIZE": 224},  # the built-in landmark engine
        "DEFAULT_ENGINE": "auto",
        "PLATFORM_RATE_LIMIT": "1000/hour",
        "USER_RATE_LIMIT": "1000/hour",
    }
    return tmp_path / "media"


@pytest.fixture
def api(db: None, media: Path) -> APIClient:
    # A webhook where nothing listens: each event is still recorded once, as a delivery row.
    platform = Platform.objects.create(
        name=f"fault-gen-{uuid.uuid4().hex[:10]}",
        webhook_url="http://127.0.0.1:9/hooks",
        allowed_private_hosts=["127.0.0.1"],
    )
    _, raw = api_key_create(platform=platform, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def faces(shared_data: Path) -> tuple[bytes, bytes]:
    folder = shared_data / "faces-real" / "ffhq-512"
    return (folder / "3.jpg").read_bytes(), (folder / "4.jpg").read_bytes()


def _ask(api: APIClient, faces: tuple[bytes, bytes]) -> Any:
    source, target = faces
    body = {
        "source": SimpleUploadedFile("source.jpg", source, content_type="image/jpeg"),
        "target": SimpleUploadedFile("target.jpg", target, content_type="image/jpeg"),
        "user_id": "user-7",
        "consent": CONSENT,
    }
    return api.post(GENERATIONS, body, format="multipart")


def _queued_while_broker_down(api: APIClient, faces: tuple[bytes, bytes]) -> Generation:
    with broker_unreachable():
        response = _ask(api, faces)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    return Generation.objects.get(pk=payload_for_generation_id(response.json()["id"]))


def _stored(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _later(settings: Any) -> Any:
    return timezone.now() + timedelta(seconds=settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + 1)


def _fresh_resend_markers(settings: Any) -> None:
    settings.CACHES = _locmem(f"markers-{uuid.uuid4().hex}")  # as when Redis lost its data


def _outcome(generation: Generation) -> dict[str, Any]:
    """Everything a second run would change."""
    generation.refresh_from_db()
    return {
        "status": generation.status,
        "attempts": generation.attempts,
        "started_at": generation.started_at,
        "completed_at": generation.completed_at,
        "output": generation.output_storage_key,
        "bank": list(
            BankEntry.objects.filter(source=BankEntry.Source.GENERATION).values_list("pk", flat=True)
        ),
        "events": list(WebhookDelivery.objects.values_list("event_type", flat=True)),
    }


@pytest.mark.django_db(transaction=True)  # the enqueue runs on commit, inside the request
def test_asked_for_and_regenerated_while_the_broker_is_down_both_are_accepted_and_kept(
    api: APIClient, faces: tuple[bytes, bytes], media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="generation.services.generations"):
        first = _queued_while_broker_down(api, faces)
        with broker_unreachable():
            response = api.post(f"{GENERATIONS}/{first.generation_id}/regenerate", {}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"

    rows = list(Generation.objects.order_by("created_at"))
    assert len(rows) == 2 and rows[0].pk == first.pk and rows[1].parent_id == first.pk  # one per request
    assert all(row.status == Generation.Status.QUEUED and row.attempts == 0 for row in rows)
    keys = [Path(media, key) for row in rows for key in (row.source_storage_key, row.target_storage_key)]
    assert sorted(keys) == _stored(media)  # each request's two inputs, kept for the sweep
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "broker unavailable" in r.getMessage()
    ]
    assert len(warnings) == 2
    assert not BankEntry.objects.exists() and not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_a_stranded_generation_and_it_completes_exactly_once(
    api: APIClient, faces: tuple[bytes, bytes], media: Path, settings: Any
) -> None:
    generation = _queued_while_broker_down(api, faces)
    with tasks_in_process():
        assert requeue_stranded()["generations"] == 0  # too recent: it may still be waiting in a queue
        out = io.StringIO()
        call_command("requeue_stranded", "--now", stdout=out)  # the operator's command, after the outage
    assert out.getvalue().strip() == "sent again: 0 scan(s), 1 generation(s), 0 webhook delivery(ies)"

    done = _outcome(generation)
    assert done["status"] == Generation.Status.COMPLETED, generation.error_code
    assert done["attempts"] == 1 and done["output"] and len(done["bank"]) == 1
    assert done["events"] == ["generation.completed"]
    assert BankEntry.objects.get().sha256 == generation.output_sha256
    assert len(_stored(media)) == 3  # source, target and the one output

    # Every later sweep and a duplicate message of the finished generation change nothing.
    _fresh_resend_markers(settings)
    with tasks_in_process():
        assert moderation_tasks.requeue_stranded.apply().get()["generations"] == 0  # the beat task
        generation_run.delay(generation.pk)
    assert _outcome(generation) == done
    assert len(_stored(media)) == 3


@pytest.mark.django_db(transaction=True)
def test_without_run_locks_a_generation_left_processing_runs_again_after_its_hard_time_limit(
    api: APIClient, faces: tuple[bytes, bytes], media: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded database has no run lock to ask whether a run is alive: a generation still
    ``processing`` past the task's hard time limit lost its run, and the sweep runs it again."""
    generation = _queued_while_broker_down(api, faces)
    started = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(
        status=Generation.Status.PROCESSING, attempts=1, started_at=started
    )
    monkeypatch.setattr(connection, "vendor", "sqlite")  # whatever the test database: no advisory locks
    past_window = settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + settings.FAKEME_GENERATION["TIME_LIMIT_S"]
    with tasks_in_process():
        assert requeue_stranded(now=started + timedelta(seconds=past_window - 5))["generations"] == 0
        assert requeue_stranded(now=started + timedelta(seconds=past_window + 5))["generations"] == 1
    done = _outcome(generation)
    assert done["status"] == Generation.Status.COMPLETED, generation.error_code
    assert done["attempts"] == 2 and done["output"] and len(done["bank"]) == 1
    assert len(_stored(media)) == 3  # source, target and the one output


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_message_for_a_running_generation_does_nothing(
    api: APIClient, faces: tuple[bytes, bytes], media: Path, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the generation run lock is a PostgreSQL advisory lock (embedded SQLite runs in-process)")
    generation = _queued_while_broker_down(api, faces)
    holding, release = threading.Event(), threading.Event()

    def worker() -> None:  # another thread: another database session, as a worker running it
        try:
            with job_run_lock(GENERATION_JOBS, generation.pk) as held:
                assert held
                started = timezone.now() - timedelta(seconds=settings.FAKEME_SCANS["REQUEUE_AFTER_S"] + 5)
                Generation.objects.filter(pk=generation.pk).update(
                    status=Generation.Status.PROCESSING, attempts=1, started_at=started
                )
                holding.set()
                release.wait(60)
        finally:
            connections.close_all()  # the worker dies: its session and lock go with it

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert holding.wait(30)
        running = _outcome(generation)
        assert generation_is_running(generation.pk)
        with tasks_in_process():
            assert requeue_stranded(now=_later(settings))["generations"] == 0  # its worker is alive
            generation_run.delay(generation.pk)  # a duplicate message (a visibility timeout ran out)
        assert _outcome(generation) == running  # not claimed again, no output, no bank entry
        assert running["status"] == Generation.Status.PROCESSING and running["attempts"] == 1
        assert len(_stored(media)) == 2
    finally:
        release.set()
        thread.join(30)

    # The worker died with its message: the sweep sends the generation again and it completes once.
    assert not generation_is_running(generation.pk)
    _fresh_resend_markers(settings)
    with tasks_in_process():
        assert requeue_stranded(now=_later(settings))["generations"] == 1
    done = _outcome(generation)
    assert done["status"] == Generation.Status.COMPLETED and done["attempts"] == 2
    assert len(done["bank"]) == 1 and done["events"] == ["generation.completed"]
    assert len(_stored(media)) == 3
