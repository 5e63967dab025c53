"""Brute-force protection for staff sign-in (the console's login form and the admin's).

Failed sign-ins are counted per user name and per client address in Django's cache (Redis in
production, so every web process shares the counts). A counter starts at the first failure and
lives ``LOGIN_LOCKOUT_S`` seconds; once it reaches its limit, sign-in for that user name (or from
that address) is refused until the counter expires, whatever the password. A successful sign-in
clears its user name's counter. The moment a lockout starts is written to the audit log.

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

from reports.services.audit import audit_record

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


def login_failure_record(*, username: str, address: str) -> Lockout | None:
    """Count one failed sign-in; returns the lockout it started, if it started one (and audits it)."""
    window_s = _config()["LOGIN_LOCKOUT_S"]
    started: Lockout | None = None
    for scope, key, limit in _limits(username, address):
        try:
            count = _increment(key, window_s)
        except _CACHE_ERRORS as exc:
            logger.warning("failed sign-in not counted, cache unavailable: %s: %s", type(exc).__name__, exc)
            return None
        if count == limit:  # exactly at the limit: audit each lockout once
            started = Lockout(scope, window_s)
            _audit_lockout(scope=scope, username=username, address=address, limit=limit, window_s=window_s)
    return started


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
