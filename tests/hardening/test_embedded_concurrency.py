"""Issue 21: embedded mode (SQLite, in-process tasks) under concurrent requests.

Concurrent writers must wait for each other (WAL, a busy timeout, IMMEDIATE transactions) instead of
failing with ``database is locked``; and a request whose effect was committed is never answered
with an error because of what ran after the commit (the in-process task).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.db.utils import ConnectionHandler
from rest_framework.test import APIClient

from moderation import tasks
from moderation.scans.models import Scan
from tests.support import scan_fixtures as _scans
from tests.support.scans import upload

_scan_settings = _scans._scan_settings
scan_weights = _scans.scan_weights
media_root = _scans.media_root
platform = _scans.platform
client_for = _scans.client_for
api = _scans.api
astronaut = _scans.astronaut
face_jpeg = _scans.face_jpeg

WRITERS = 8


@pytest.fixture
def embedded(tmp_path: Path, django_db_blocker: Any) -> Iterator[str]:
    """The alias of a file-backed SQLite database with the project's embedded-mode options; each thread
    gets its own connection to it, as each request does."""
    alias = "embedded"
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "db.sqlite3"),
        "OPTIONS": dict(settings.FAKEME_SQLITE_OPTIONS),
    }
    configured = ConnectionHandler({"default": database, alias: database}).settings[alias]
    connections.settings[alias] = configured
    with django_db_blocker.unblock():
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER)")
        yield alias
        connections[alias].close()
    del connections[alias]
    del connections.settings[alias]


def test_sqlite_connections_use_wal_and_wait_for_the_lock(embedded: str) -> None:
    with connections[embedded].cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert connections[embedded].transaction_mode == "IMMEDIATE"


def test_concurrent_read_then_write_transactions_all_commit(embedded: str) -> None:
    """What a request does (read, then write, in one transaction), from several threads at once: with
    deferred transactions two of them deadlock on the lock upgrade and SQLite answers ``database is
    locked`` at once; with IMMEDIATE ones they queue behind the busy timeout."""
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic(using=embedded), connections[embedded].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM item")
                time.sleep(0.05)  # hold the read while the others begin theirs
                cursor.execute("INSERT INTO item (n) VALUES (%s)", [n])
        except BaseException as exc:  # collected: the assertion below names them
            errors.append(exc)
        finally:
            connections[embedded].close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [], errors
    with connections[embedded].cursor() as cursor:
        assert cursor.execute("SELECT COUNT(*) FROM item").fetchone()[0] == WRITERS


@pytest.mark.django_db
def test_a_committed_scan_is_not_answered_with_an_error(
    api: APIClient,
    face_jpeg: bytes,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """The queued scan is committed, then the in-process run fails (here: the database is locked while
    it claims the scan). The answer is still the 202 of the committed scan, not a 5xx."""

    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks.scan_process, "delay", locked)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/scans?async=1", {"media": upload("a.jpg", face_jpeg)}, format="multipart"
        )
    assert response.status_code == 202, response.content[:300]
    assert Scan.objects.filter(pk=response.json()["id"]).exists()
