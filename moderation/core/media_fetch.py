"""Outbound HTTP with an SSRF guard: fetching media URLs and posting webhooks.

Every connection resolves the host itself and refuses loopback, private, link-local (cloud
metadata at 169.254.169.254 included), multicast, reserved and unspecified addresses, unless
the platform allows that host by name. The check happens when the socket is opened, on the
address actually connected to, so a redirect or a DNS answer that changes between check and
use (DNS rebinding) cannot slip past it. Redirects are followed by hand, each one checked.
Downloads are capped in size and in total time.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from moderation.core.errors import ApplicationError

USER_AGENT = "FakeME-scan/1.0"
_CHUNK = 64 * 1024


class ForbiddenAddress(Exception):
    """The host resolves to an address that must not be reached."""


def address_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
        elif ip.sixtofour is not None and not address_is_public(ip.sixtofour):
            return False  # 6to4 (2002::/16) carries an IPv4 address, private ones included
        elif ip.is_site_local:
            return False  # fec0::/10: deprecated, but some networks still route it internally
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class AddressGuard:
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def for_hosts(cls, hosts: Iterable[str]) -> AddressGuard:
        return cls(frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip()))

    def resolve(self, host: str, port: int) -> list[tuple[socket.AddressFamily, tuple]]:  # type: ignore[type-arg]
        """The host's addresses; raises ForbiddenAddress if any of them is not public."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed = host.lower().strip("[]") in self.allowed_hosts
        addresses = []
        for family, _, _, _, sockaddr in infos:
            ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            # Refuse if ANY answer is private: a mixed answer is a classic rebinding trick.
            if not allowed and not address_is_public(ip):
                raise ForbiddenAddress(f"{host} resolves to a non-public address ({ip}).")
            addresses.append((family, sockaddr))
        return addresses


# The guard of the request in progress; a connection opened without one fails closed.
_GUARD: ContextVar[AddressGuard | None] = ContextVar("fakeme_address_guard", default=None)


class _GuardedConnectionMixin:
    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list | None  # type: ignore[type-arg]

    def _new_conn(self) -> socket.socket:
        guard = _GUARD.get()
        if guard is None:
            raise ForbiddenAddress("No address guard is active for this connection.")
        try:
            addresses = guard.resolve(self._dns_host, self.port)  # type: ignore[attr-defined]
        except socket.gaierror as exc:
            raise NewConnectionError(self, f"Could not resolve {self.host}: {exc}") from exc  # type: ignore[arg-type]
        last: OSError | None = None
        for _family, sockaddr in addresses:
            try:
                # Connect to the checked address itself; TLS still verifies the original host name.
                return urllib3_connection.create_connection(
                    (sockaddr[0], sockaddr[1]),
                    self.timeout,  # type: ignore[arg-type]
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last = exc
        if isinstance(last, TimeoutError):  # socket.timeout: keep it a timeout, not a refusal
            raise ConnectTimeoutError(self, f"Connecting to {self.host} timed out.")
        raise NewConnectionError(self, f"Failed to connect to {self.host}: {last}")  # type: ignore[arg-type]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _pool_manager() -> urllib3.PoolManager:
    manager = urllib3.PoolManager(num_pools=8, headers={"User-Agent": USER_AGENT}, retries=False)
    manager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
    return manager


_MANAGER = _pool_manager()  # no proxies: environment proxy settings must not bypass the guard


@contextmanager
def guarded(allowed_hosts: Iterable[str] = ()) -> Iterator[AddressGuard]:
    guard = AddressGuard.for_hosts(allowed_hosts)
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)


def check_url(url: str) -> str:
    """Syntax checks that need no network: http(s), a host, no credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ApplicationError("media_url_invalid", f"Not a valid URL: {url!r}.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError("media_url_invalid", "Media URLs must be absolute http(s) URLs.")
    if parts.username or parts.password:
        raise ApplicationError("media_url_invalid", "Media URLs must not carry credentials.")
    if port == 0:
        raise ApplicationError("media_url_invalid", "Media URLs must not use port 0.")
    return url


def _forbidden(url: str, exc: Exception) -> ApplicationError:
    return ApplicationError(
        "media_url_forbidden",
        f"Refusing to fetch {url}: {exc} Only public addresses may be fetched.",
        status=422,
    )


@dataclass
class Fetched:
    url: str  # after redirects
    data: bytes
    content_type: str


def fetch(
    url: str,
    *,
    allowed_hosts: Iterable[str],
    max_bytes: int,
    timeout_s: float,
    deadline_s: float,
    max_redirects: int,
) -> Fetched:
    """GET a media URL through the guard. Raises ApplicationError with a stable code on any refusal."""
    started = time.monotonic()
    current = check_url(url)
    with guarded(allowed_hosts):
        for _ in range(max_redirects + 1):
            try:
                response = _MANAGER.request(
                    "GET",
                    current,
                    preload_content=False,
                    redirect=False,
                    timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
                )
            except ForbiddenAddress as exc:
                raise _forbidden(current, exc) from exc
            except NewConnectionError as exc:  # refused or unresolvable (a subclass of the timeout error)
                raise ApplicationError(
                    "media_fetch_failed", f"Could not connect to {current}: {exc}", status=422
                ) from exc
            except urllib3.exceptions.TimeoutError as exc:
                raise _timeout(current, deadline_s) from exc
            except HTTPError as exc:
                raise ApplicationError(
                    "media_fetch_failed", f"Could not fetch {current}: {exc}", status=422
                ) from exc
            complete = False
            try:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise ApplicationError(
                            "media_fetch_failed", f"{current} redirected without a Location.", status=422
                        )
                    current = check_url(urljoin(current, location))
                    continue
                if response.status != 200:
                    raise ApplicationError(
                        "media_fetch_failed", f"{current} answered HTTP {response.status}.", status=422
                    )
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(max_bytes)
                data = _read_capped(response, max_bytes, started, deadline_s, current)
                complete = True
                return Fetched(current, data, response.headers.get("Content-Type", ""))
            finally:
                _finish(response, complete=complete)
        raise ApplicationError("media_fetch_failed", f"Too many redirects fetching {url}.", status=422)


def _finish(response: urllib3.BaseHTTPResponse, *, complete: bool) -> None:
    """Give a connection whose body was read to the end back to the pool; close any other. A body left
    unread (a redirect's, one over the limit, an endless one) would keep the socket open in the pool, and
    the next request to that host would fail on it (urllib3: ResponseNotReady)."""
    if not complete:
        response.close()
    response.release_conn()


def _too_large(max_bytes: int) -> ApplicationError:
    return ApplicationError(
        "media_too_large", f"The media exceeds the limit of {max_bytes:,} bytes.", status=413
    )


def _read_capped(
    response: urllib3.BaseHTTPResponse, max_bytes: int, started: float, deadline_s: float, url: str
) -> bytes:
    """Read up to ``max_bytes`` within the deadline; read1 returns what has arrived, so a server
    trickling bytes cannot hold a request past the deadline by more than one read timeout."""
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := response.read1(_CHUNK, decode_content=True):
            total += len(chunk)
            if total > max_bytes:
                raise _too_large(max_bytes)
            if time.monotonic() - started > deadline_s:
                raise _timeout(url, deadline_s)
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError as exc:
        raise _timeout(url, deadline_s) from exc
    except HTTPError as exc:
        raise ApplicationError("media_fetch_failed", f"Could not read {url}: {exc}", status=422) from exc
    return b"".join(chunks)


def _timeout(url: str, deadline_s: float) -> ApplicationError:
    return ApplicationError(
        "media_fetch_timeout", f"Fetching {url} took too long (limit {deadline_s:.0f} s).", status=422
    )


@dataclass
class PostResult:
    status: int | None
    body_excerpt: str
    error: str


def post(
    url: str, *, body: bytes, headers: dict[str, str], allowed_hosts: Iterable[str], timeout_s: float
) -> PostResult:
    """POST (webhooks) through the guard; never raises for network trouble, reports it instead."""
    try:
        check_url(url)
    except ApplicationError as exc:
        return PostResult(None, "", exc.message)
    with guarded(allowed_hosts):
        try:
            response = _MANAGER.request(
                "POST",
                url,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
                redirect=False,
                timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
                preload_content=False,
            )
        except (ForbiddenAddress, HTTPError) as exc:
            return PostResult(None, "", f"{type(exc).__name__}: {exc}"[:500])
        complete = False
        try:
            head = response.read(501, decode_content=True)
            complete = len(head) <= 500  # a shorter read means the body ended
            excerpt = head[:500].decode("utf-8", "replace")
        except HTTPError as exc:
            excerpt = f"(unreadable body: {exc})"
        finally:
            _finish(response, complete=complete)
        return PostResult(response.status, excerpt[:500], "")
