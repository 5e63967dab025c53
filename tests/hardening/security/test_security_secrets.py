"""Secrets stay secret: a raw API key (or a password, the webhook secret, SECRET_KEY, the watermark key)
never reaches a log line, an SQL statement or a database column, on any path: key creation (service and
admin action), successful requests, bad and revoked keys, failed sign-ins. Keys are checked by comparing
SHA-256 digests with ``hmac.compare_digest``, also when the key id matches no row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from moderation.core import auth
from moderation.core.models import ApiKey, Platform
from moderation.core.platforms import api_key_create, api_key_revoke
from tests.support.security import key_client, upload

pytestmark = pytest.mark.django_db


SCANS = "/api/v1/scans"
_RAW_KEY = re.compile(r"fkm_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    """Every record of every logger at DEBUG (the ``django`` logger does not propagate to the root, so
    the handler goes on it too), with tracebacks; and every SQL statement with its parameters."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))
            lines.append(repr(getattr(record, "params", "")) + repr(getattr(record, "sql", "")))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # django.db.backends logs each query (as with DEBUG on)
    try:
        yield lines
    finally:
        connection.force_debug_cursor = False
        for logger, level in levels:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _database_text() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def _admin_creates_a_key(platform: Platform) -> str:
    """The admin's "Create an API key" action, as a staff member uses it; returns the key it shows."""
    root = get_user_model().objects.create_superuser("root", password=None)
    client = Client()
    client.force_login(root)
    response = client.post(
        "/admin/moderation/platform/",
        {"action": "create_api_key", "_selected_action": [str(platform.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    shown = _RAW_KEY.findall(response.content.decode())
    assert len(shown) == 1, "the admin shows the new key once"
    return shown[0]


def test_secrets_never_reach_logs_sql_or_columns(
    platform: Platform, face_jpeg: bytes, every_log_line: list[str]
) -> None:
    key, raw = api_key_create(platform=platform, name="ci")
    admin_raw = _admin_creates_a_key(platform)
    revoked_key, revoked_raw = api_key_create(platform=platform, name="old")
    api_key_revoke(api_key=revoked_key)

    good = key_client(raw)
    assert good.get(SCANS).status_code == 200
    assert good.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").status_code == 200
    assert key_client(admin_raw).get(f"{SCANS}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert key_client(raw[:-2] + "xx").get(SCANS).status_code == 401  # right id, wrong secret
    assert key_client(revoked_raw).get(SCANS).status_code == 401
    wrong_scheme = Client().get(SCANS, HTTP_AUTHORIZATION=f"Token {raw}")
    assert wrong_scheme.status_code == 401
    password = "Tr0ub4dor&3-not-the-password"
    assert Client().post("/console/login/", {"username": "root", "password": password}).status_code == 200

    log = "\n".join(every_log_line)
    # The capture works: the paths above did log, their SQL included.
    assert f"api key created: {key.prefix}" in log and "api key revoked" in log
    assert "Unauthorized: /api/v1/scans" in log and "SELECT" in log and key.key_hash in log
    secrets = {
        "API key": raw, "admin-made API key": admin_raw, "revoked API key": revoked_raw,
        "password": password, "webhook secret": platform.webhook_secret, "SECRET_KEY": settings.SECRET_KEY,
        "watermark key": settings.WATERMARK_KEY.decode(),
    }  # fmt: skip
    for what, value in secrets.items():
        secret_part = value.split("_", 2)[-1] if value.startswith("fkm_") else value
        assert secret_part not in log, f"the {what} was logged"

    stored = _database_text()
    assert key.prefix in stored and key.key_hash in stored  # the scan reads real rows
    for raw_key in (raw, admin_raw, revoked_raw):
        assert raw_key.split("_", 2)[-1] not in stored, "a raw API key is in the database"
    assert password not in stored
    assert all(k.key_hash == auth.api_key_hash(r) for k, r in [(key, raw), (revoked_key, revoked_raw)])


def test_keys_are_compared_in_constant_time(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, key_spy: Callable[[], list[tuple[str, str]]]
) -> None:
    """Every attempt compares digests with hmac.compare_digest, an unknown key id included (against a
    dummy digest), so neither the secret nor the id's existence shows in a timing difference."""
    _, raw = api_key_create(platform=platform)
    attempts = {
        "right": raw,
        "wrong secret": raw[:-2] + "xx",
        "unknown id": "fkm_zzzzzzzz_" + raw.split("_", 2)[2],
    }
    for what, candidate in attempts.items():
        before = len(key_spy())
        status = key_client(candidate).get(SCANS).status_code
        assert status == (200 if what == "right" else 401), what
        calls = key_spy()[before:]
        assert len(calls) == 1, f"{what}: {len(calls)} constant-time comparisons"
        presented, expected = calls[0]
        assert presented == auth.api_key_hash(candidate) and len(expected) == 64


@pytest.fixture
def key_spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[tuple[str, str]]]:
    import hmac

    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    return lambda: calls


def test_keys_have_256_random_bits_and_only_the_id_is_stored_in_clear(platform: Platform) -> None:
    made = [api_key_create(platform=platform)[1] for _ in range(20)]
    assert len(set(made)) == 20 and all(_RAW_KEY.fullmatch(raw) for raw in made)  # 43 urlsafe chars: 256 bits
    prefixes = set(ApiKey.objects.values_list("prefix", flat=True))
    assert prefixes == {raw[:12] for raw in made}
    assert not ApiKey.objects.filter(key_hash__in=made).exists()
