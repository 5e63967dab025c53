"""Brute-force protection for staff sign-in (the console's login form and the admin's).

Sign-in attempts are counted per user name and per client address in Django's cache (Redis in
production, so every web process shares the counts). Each attempt is counted *before* its password
is checked, with the cache's atomic increment (``login_attempt_start``): parallel guesses each get
their own number, and one numbered above the limit is refused without a password check, so at most
the limit of passwords is ever checked in a window however many requests arrive at once. A counter
starts at the first attempt and lives ``LOGIN_LOCKOUT_S`` seconds; once it reaches its limit,
sign-in for that user name (or from that address) is refused until the counter expires, whatever
the password. A successful sign-in clears its user name's counter and gives the address its attempt
back. The moment a lockout starts is written to the audit log.

The address counter is not cleared by a success: otherwise an attacker holding one account could
reset it between guesses at other accounts' passwords. If the cache is unreachable, sign-in works
without the lockout (and says so in the log), like the API throttles: staff must be able to reach the
console during the very outage, and passwords are still checked.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

from moderation.core.audit import audit_record

logger = logging.getLogger(__name__)

_PREFIX = "fakeme:login-fail"
_CACHE_ERRORS = (RedisError, OSError)
USERNAME, ADDRESS = "username", "address"


@dataclass(frozen=True)
class Lockout:
    scope: str  # USERNAME or ADDRESS
    retry_after_s: int

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after_s // 60))


def _config() -> dict[str, Any]:
    return settings.FAKEME_CONSOLE


def _key(scope: str, value: str) -> str:
    # Hashed: user names can be long or contain characters a cache key may not.
    return f"{_PREFIX}:{scope}:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:40]}"


def _normalise(username: str) -> str:
    return username.strip().casefold()


def login_client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the
    address the outermost of them saw (X-Forwarded-For read from the right: clients can prepend to it)."""
    proxies = _config()["TRUSTED_PROXY_COUNT"]
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def _limits(username: str, address: str | None) -> list[tuple[str, str, int]]:
    config = _config()
    limits = [(USERNAME, _key(USERNAME, _normalise(username)), config["LOGIN_MAX_FAILURES_PER_USERNAME"])]
    if address is not None:
        limits.append((ADDRESS, _key(ADDRESS, address), config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    return limits


def login_lockout_get(*, username: str, address: str | None) -> Lockout | None:
    """The lockout that refuses this sign-in now, if any (the longest, when both apply); without an
    address (a password checked outside a web request) only the user name's."""
    now = time.time()
    found: Lockout | None = None
    for scope, key, limit in _limits(username, address):
        try:
            values = cache.get_many([key, f"{key}:until"])
        except _CACHE_ERRORS as exc:
            logger.warning("sign-in lockout not checked, cache unavailable: %s: %s", type(exc).__name__, exc)
            return None
        if values.get(key, 0) >= limit:
            retry = max(1, int(values.get(f"{key}:until", now + 1) - now))
            if found is None or retry > found.retry_after_s:
                found = Lockout(scope, retry)
    return found


def _increment(key: str, window_s: int) -> int:
    # add() only creates the counter (and its expiry) at the first failure of a window; incr() keeps
    # the expiry, so a run of failures cannot push the end of the window further out.
    if cache.add(key, 0, timeout=window_s):
        cache.set(f"{key}:until", time.time() + window_s, timeout=window_s)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr(): this failure opens a new window
        cache.set(key, 1, timeout=window_s)
        cache.set(f"{key}:until", time.time() + window_s, timeout=window_s)
        return 1


@dataclass(frozen=True)
class LoginAttempt:
    """One password check, counted before it is made (``login_attempt_start``)."""

    username: str
    address: str | None
    numbers: dict[str, int]  # scope -> this attempt's number in the scope's window (empty: cache down)
    refused: Lockout | None  # over a limit: the password is not checked at all


def login_attempt_start(*, username: str, address: str | None) -> LoginAttempt:
    """Count an attempt before its password is checked: parallel guesses each get their own number
    from the cache's atomic counter, so no more than the limit are ever checked in one window."""
    window_s = _config()["LOGIN_LOCKOUT_S"]
    numbers: dict[str, int] = {}
    refused: Lockout | None = None
    for scope, key, limit in _limits(username, address):
        try:
            number = _increment(key, window_s)
            until = cache.get(f"{key}:until") if number > limit else None
        except _CACHE_ERRORS as exc:
            logger.warning(
                "sign-in attempt not checked, failed sign-in not counted, cache unavailable: %s: %s",
                type(exc).__name__,
                exc,
            )
            return LoginAttempt(username, address, {}, None)
        numbers[scope] = number
        if number > limit:
            retry = max(1, int((until or time.time() + 1) - time.time()))
            if refused is None or retry > refused.retry_after_s:
                refused = Lockout(scope, retry)
    return LoginAttempt(username, address, numbers, refused)


def login_attempt_failed(attempt: LoginAttempt) -> Lockout | None:
    """The password was wrong: the attempt stays counted; the one that reached a limit audits the
    lockout it starts (exactly one attempt gets that number). Returns the lockout it started."""
    window_s = _config()["LOGIN_LOCKOUT_S"]
    started: Lockout | None = None
    for scope, _, limit in _limits(attempt.username, attempt.address):
        if attempt.numbers.get(scope) == limit:
            started = Lockout(scope, window_s)
            _audit_lockout(
                scope=scope,
                username=attempt.username,
                address=attempt.address or "unknown",
                limit=limit,
                window_s=window_s,
            )
    return started


def login_attempt_succeeded(attempt: LoginAttempt) -> None:
    """The right password: the user name's count is cleared, and the address gets its attempt back
    (an address's count is of failures only, so that one account cannot reset it)."""
    login_success_record(username=attempt.username)
    if attempt.address is None or ADDRESS not in attempt.numbers:
        return
    try:
        cache.decr(_key(ADDRESS, attempt.address))
    except ValueError:  # the window ended meanwhile: nothing to give back
        pass
    except _CACHE_ERRORS as exc:
        logger.warning("sign-in count not corrected, cache unavailable: %s: %s", type(exc).__name__, exc)


def login_success_record(*, username: str) -> None:
    key = _key(USERNAME, _normalise(username))
    try:
        cache.delete_many([key, f"{key}:until"])
    except _CACHE_ERRORS as exc:
        logger.warning("sign-in count not reset, cache unavailable: %s: %s", type(exc).__name__, exc)


def _audit_lockout(*, scope: str, username: str, address: str, limit: int, window_s: int) -> None:
    shown = username[:150]
    minutes = max(1, window_s // 60)
    if scope == USERNAME:
        user = get_user_model().objects.filter(username__iexact=username.strip()).first()
        what = f'user name "{shown}"'
        target: dict[str, Any] = (
            {"target": user} if user else {"target_type": "user", "target_label": f"{shown} (no such user)"}
        )
    else:
        what = f"address {address}"
        target = {"target_type": "client_address", "target_id": address[:64], "target_label": address}
    description = (
        f"Sign-in locked for {minutes} min for {what} after {limit} failed attempts "
        f'(last attempt: user name "{shown}" from {address}).'
    )
    audit_record(
        action="console.login_lockout",
        actor_label=f"anonymous ({address})",
        description=description,
        after={"scope": scope, "username": shown, "address": address, "failures": limit, "lock_s": window_s},
        **target,
    )
    logger.warning("%s", description)
