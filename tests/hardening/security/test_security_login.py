"""Brute-force protection of staff sign-in, through the real console login form (and the admin's).

Limits here: 3 failures per user name, 5 per client address, within 60 s. The cache's clock is moved
forward by patching ``time.time`` (what the local-memory cache and the lockout read), never by sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from moderation.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = reverse("console:login")
PASSWORD = "correct horse battery staple"
LOCKED = b"Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def _login_settings(settings: Any) -> None:
    settings.FAKEME_CONSOLE = {
        "LOGIN_MAX_FAILURES_PER_USERNAME": 3,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 5,
        "LOGIN_LOCKOUT_S": 60,
        "TRUSTED_PROXY_COUNT": 0,
    }
    # The lockout is the topic, not the hash: PBKDF2 would make each attempt cost a second here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user("alice", password=PASSWORD, is_staff=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``clock(s)``: from now on, time.time() is ``s`` seconds later than the real one."""
    real = time.time

    def advance(seconds: float) -> None:
        monkeypatch.setattr(time, "time", lambda: real() + seconds)

    return advance


def attempt(username: str, password: str, address: str = "127.0.0.1", **headers: str) -> Any:
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(LOGIN, {"username": username, "password": password})
    response.signed_in = "_auth_user_id" in client.session
    return response


def lockouts() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="console.login_lockout").order_by("created_at"))


def test_user_name_is_locked_after_failures_even_for_the_right_password(
    alice: AbstractBaseUser, clock: Callable[[float], None]
) -> None:
    for _ in range(3):
        wrong = attempt("alice", "guess")
        assert wrong.status_code == 200 and b"did not match a staff account" in wrong.content
        assert not wrong.signed_in
    refused = attempt("alice", PASSWORD)
    assert refused.status_code == 429 and not refused.signed_in
    assert LOCKED in refused.content and b"for this user name" in refused.content
    assert b"try again in 1 minute" in refused.content
    assert 0 < int(refused["Retry-After"]) <= 60
    assert attempt("ALICE ", PASSWORD).status_code == 429  # the same name, however it is typed

    [entry] = lockouts()  # audited once, when the lockout started; refused attempts add nothing
    assert entry.target_type == "user" and entry.target_id == str(alice.pk)
    assert entry.actor is None and entry.actor_label == "anonymous (127.0.0.1)"
    assert 'user name "alice" after 3 failed attempts' in entry.description
    assert entry.after == {
        "scope": "username", "username": "alice", "address": "127.0.0.1", "failures": 3, "lock_s": 60,
    }  # fmt: skip
    assert PASSWORD not in entry.description and "guess" not in str(entry.after)

    clock(61)  # the window has passed
    ok = attempt("alice", PASSWORD)
    assert ok.status_code == 302 and ok.signed_in


def test_a_successful_sign_in_resets_the_user_names_count(alice: AbstractBaseUser) -> None:
    for _ in range(2):
        attempt("alice", "guess")
    assert attempt("alice", PASSWORD).signed_in
    for _ in range(2):  # two more: 2 of 3 again, not 4
        assert attempt("alice", "guess").status_code == 200
    assert attempt("alice", PASSWORD).signed_in
    assert lockouts() == []


def test_an_address_trying_many_user_names_is_locked(alice: AbstractBaseUser) -> None:
    for name in ("bob", "carol", "dave", "erin", "frank"):
        assert attempt(name, "guess", "203.0.113.9").status_code == 200
    refused = attempt("alice", PASSWORD, "203.0.113.9")
    assert refused.status_code == 429 and not refused.signed_in
    assert b"from your network address" in refused.content
    assert attempt("alice", PASSWORD, "198.51.100.7").signed_in  # other addresses are not affected
    [entry] = lockouts()
    assert entry.target_type == "client_address" and entry.target_id == "203.0.113.9"


def test_the_admin_login_is_refused_during_a_lockout(alice: AbstractBaseUser) -> None:
    for _ in range(3):
        attempt("alice", "guess")
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert not Client().login(username="alice", password=PASSWORD)  # authenticate() itself refuses


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(alice: AbstractBaseUser, settings: Any) -> None:
    """A client cannot dodge the address limit by sending a new X-Forwarded-For each time."""
    for i in range(5):
        attempt(f"user{i}", "guess", "203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert attempt("alice", PASSWORD, "203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429

    # Behind one trusted proxy (REMOTE_ADDR is the proxy) the client is the last X-Forwarded-For entry;
    # what the client put before it is ignored.
    settings.FAKEME_CONSOLE = {**settings.FAKEME_CONSOLE, "TRUSTED_PROXY_COUNT": 1}
    for i in range(5):
        attempt(f"other{i}", "guess", "10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 198.51.100.20")
    assert attempt("alice", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 429
    assert attempt("alice", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.21").signed_in


def test_without_the_cache_sign_in_still_works(
    alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down: staff can still sign in (passwords still checked); the log says the lockout is off."""
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Connection refused")

    for name in ("get_many", "add", "incr", "set", "delete_many"):
        monkeypatch.setattr(type(caches["default"]), name, down)
    assert attempt("alice", "guess").status_code == 200
    assert attempt("alice", PASSWORD).signed_in
    assert "sign-in lockout not checked, cache unavailable" in caplog.text
    assert "failed sign-in not counted, cache unavailable" in caplog.text
