"""Media URL fetching (moderation/core/media_fetch.py) against a hostile server and hostile DNS, on top of
tests/scans/test_scan_ssrf.py (literal internal addresses, a redirect to localhost or the metadata
address, the declared-size limit, a trickling server, a mixed DNS answer at the guard):

- bodies with no length, a chunked endless body, or more bytes than their Content-Length: the fetch reads
  at most the limit (counted at urllib3's read), hangs up, and leaves nothing stored; a connection with
  an unread body (a redirect's) is closed, not reused;
- redirects from an allowed host to loopback, IPv6 loopback, IPv4-mapped, metadata, private, ULA, octal
  and a name resolving to loopback: refused before the second request is made;
- host names resolving to internal addresses (a patched ``socket.getaddrinfo``), 6to4 and site-local
  IPv6 included: refused without a connection;
- DNS rebinding: the name is resolved once per connection, and the socket connects to the address that
  was checked (not to the name again, which could now resolve elsewhere);
- webhooks go through the same guard.

The test server listens on 127.0.0.1, which FakeME refuses: each test that must reach it allows it the
way an operator would, by name in the platform's ``allowed_private_hosts`` (or ``allowed_hosts`` of
``media_fetch.post``), so the escape hatch is explicit, per platform, and never a global switch.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3
from rest_framework.test import APIClient

from moderation.core import media_fetch
from moderation.core.models import Platform
from moderation.scans.models import Scan
from tests.support.security import LocalServer, PlatformFactory, stored_files

pytestmark = pytest.mark.django_db


SCANS = "/api/v1/scans"
LIMIT = 256 * 1024
_real_getaddrinfo = socket.getaddrinfo


def scan_url(api: APIClient, url: str) -> Any:
    return api.post(SCANS, {"media_urls": [url]}, format="json")


def assert_nothing_stored(media_root: Path) -> None:
    assert Scan.objects.count() == 0 and stored_files(media_root) == []


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Fake DNS: ``dns[name] = [address, ...]`` answers (one per lookup, the last repeating); other
    names go to the real resolver. ``dns["_lookups"]`` records the names looked up."""
    answers: dict[str, list[str]] = {"_lookups": []}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        answers["_lookups"].append(name)
        queue = answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address FakeME's guarded connections open (the real connection still happens)."""
    opened: list[tuple[str, int]] = []
    real = media_fetch.urllib3_connection.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(media_fetch.urllib3_connection, "create_connection", create_connection)
    return opened


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the chunks FakeME's fetch reads from response bodies."""
    sizes: list[int] = []
    real = urllib3.response.HTTPResponse.read1

    def read1(self: Any, *args: Any, **kwargs: Any) -> bytes:
        data = real(self, *args, **kwargs)
        sizes.append(len(data))
        return data

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", read1)
    return sizes


# -- bodies that do not end where they should ---------------------------------------------------------
class EndlessServer:
    """A raw HTTP server on 127.0.0.1 that answers every request with ``head`` and then body bytes
    until the client hangs up; ``sent`` counts body bytes, ``hung_up`` is set when the client left."""

    def __init__(self, head: bytes, chunked: bool) -> None:
        self.head, self.chunked = head, chunked
        self.sent = 0
        self.hung_up = threading.Event()
        self.conn: socket.socket | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.conn = conn = self.listener.accept()[0]
        block = b"\xff\xd8\xff\xe0" + b"\x00" * (64 * 1024 - 4)
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            while self.sent < 512 * 1024 * 1024:  # a bound for a broken client: 512 MiB
                payload = b"%x\r\n%s\r\n" % (len(block), block) if self.chunked else block
                conn.sendall(payload)
                self.sent += len(block)
        except OSError:
            self.hung_up.set()
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()
        if self.conn is not None:  # unblock a send to a client that keeps the socket but stopped reading
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(30)


@pytest.fixture
def endless() -> Iterator[Callable[[bytes, bool], EndlessServer]]:
    servers: list[EndlessServer] = []

    def start(head: bytes, chunked: bool = False) -> EndlessServer:
        servers.append(EndlessServer(head, chunked))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


_JPEG_200 = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"


@pytest.mark.parametrize(
    "head, chunked",
    [
        pytest.param(_JPEG_200 + b"Connection: close\r\n\r\n", False, id="no-length"),
        pytest.param(_JPEG_200 + b"Transfer-Encoding: chunked\r\n\r\n", True, id="chunked"),
    ],
)
def test_an_endless_body_is_read_only_up_to_the_limit(
    api: APIClient,
    platform: Platform,
    endless: Callable[[bytes, bool], EndlessServer],
    bytes_read: list[int],
    media_root: Path,
    head: bytes,
    chunked: bool,
) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.max_upload_bytes = LIMIT
    platform.save()
    server = endless(head, chunked)
    response = scan_url(api, f"http://127.0.0.1:{server.port}/endless.jpg")
    assert response.status_code == 413 and response.json()["error"]["code"] == "media_too_large"
    assert LIMIT < sum(bytes_read) <= LIMIT + media_fetch._CHUNK  # stopped at the first chunk past it
    assert server.hung_up.wait(30), "FakeME kept the connection open"
    assert_nothing_stored(media_root)


def test_bytes_beyond_the_content_length_are_never_read(
    api: APIClient,
    platform: Platform,
    endless: Callable[[bytes, bool], EndlessServer],
    bytes_read: list[int],
    media_root: Path,
) -> None:
    """A server declaring 1000 bytes and sending on forever: 1000 bytes are read (a cut JPEG: 422)."""
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.max_upload_bytes = LIMIT
    platform.save()
    server = endless(_JPEG_200 + b"Content-Length: 1000\r\n\r\n")
    response = scan_url(api, f"http://127.0.0.1:{server.port}/liar.jpg")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "corrupt_media"
    assert sum(bytes_read) == 1000
    # (The connection, its declared body read in full, may wait in urllib3's bounded pool; pending bytes
    # make urllib3 drop it instead of reusing it.)
    assert_nothing_stored(media_root)


def test_a_redirect_with_a_body_on_a_kept_alive_connection(
    api: APIClient, platform: Platform, face_jpeg: bytes
) -> None:
    """An HTTP/1.1 server answering a redirect with a body (as most do) and keeping the connection: the
    unread redirect body must not break the next request to the same host."""
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            moved = self.path == "/start"
            body = b"<html><body>Moved to /face.jpg</body></html>" if moved else face_jpeg
            self.send_response(302 if moved else 200)
            if moved:
                self.send_header("Location", "/face.jpg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        response = scan_url(api, f"http://127.0.0.1:{server.server_address[1]}/start")
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200, response.content


# -- redirects and DNS ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret.jpg",
        "http://[::1]:{port}/secret.jpg",
        "http://[::ffff:127.0.0.1]:{port}/secret.jpg",
        "http://0177.0.0.1:{port}/secret.jpg",  # octal 127.0.0.1
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",  # the IPv6 metadata address
        "http://10.0.0.5/secret.jpg",
        "http://[fd12:3456::1]/secret.jpg",
        "http://rebound.test:{port}/secret.jpg",  # a name that resolves to loopback
    ],
)
def test_a_redirect_from_an_allowed_host_to_an_internal_address_is_refused(
    api: APIClient,
    platform: Platform,
    local_server: LocalServer,
    dns: dict[str, list[str]],
    face_jpeg: bytes,
    media_root: Path,
    target: str,
) -> None:
    """cdn.test is the platform's private CDN (allowed by name); where it redirects is checked anew."""
    dns["cdn.test"] = ["127.0.0.1"]
    dns["rebound.test"] = ["127.0.0.1"]
    platform.allowed_private_hosts = ["cdn.test"]
    platform.save()
    local_server.files["/secret.jpg"] = face_jpeg
    local_server.redirects["/start"] = target.format(port=local_server.port)
    response = scan_url(api, f"http://cdn.test:{local_server.port}/start")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "media_url_forbidden"
    assert [r.path for r in local_server.received] == ["/start"]  # the secret was never asked for
    assert_nothing_stored(media_root)


def test_the_allowed_host_itself_works_and_is_per_platform(
    api: APIClient,
    platform: Platform,
    client_for: Callable[[Platform], APIClient],
    local_server: LocalServer,
    dns: dict[str, list[str]],
    face_jpeg: bytes,
) -> None:
    dns["cdn.test"] = ["127.0.0.1"]
    platform.allowed_private_hosts = ["cdn.test"]
    platform.save()
    local_server.files["/face.jpg"] = face_jpeg
    local_server.redirects["/start"] = "/face.jpg"  # a relative redirect stays on cdn.test
    assert scan_url(api, f"http://cdn.test:{local_server.port}/start").status_code == 200

    other = client_for(PlatformFactory())  # another platform: cdn.test is not on its list
    refused = scan_url(other, f"http://cdn.test:{local_server.port}/face.jpg")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "media_url_forbidden"
    assert [r.path for r in local_server.received] == ["/start", "/face.jpg"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.53.53.53",
        "::1",
        "::ffff:192.168.0.1",  # IPv4-mapped private
        "10.1.2.3",
        "172.31.255.1",
        "192.168.100.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # cloud metadata
        "fd00::5",  # unique local
        "fe80::1",  # link-local
        "0.0.0.0",
        "::",
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
        "fec0::1",  # site-local (deprecated)
        "64:ff9b::a00:1",  # NAT64 carrying 10.0.0.1
        "224.0.0.1",  # multicast
    ],
)
def test_a_name_resolving_to_an_internal_address_is_refused_without_connecting(
    api: APIClient,
    dns: dict[str, list[str]],
    connects: list[tuple[str, int]],
    media_root: Path,
    address: str,
) -> None:
    dns["media.evil.test"] = [address]
    response = scan_url(api, "http://media.evil.test:8080/face.jpg")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "media_url_forbidden"
    assert dns["_lookups"] == ["media.evil.test"] and connects == []
    assert_nothing_stored(media_root)


def test_dns_rebinding_connects_to_the_address_that_was_checked(
    api: APIClient,
    monkeypatch: pytest.MonkeyPatch,
    dns: dict[str, list[str]],
    local_server: LocalServer,
    media_root: Path,
) -> None:
    """The name answers a public address first, then loopback (where a server waits). FakeME resolves
    once per connection and connects to the public address it checked: loopback is never reached. (The
    public address is not contacted either: the connection is stopped before it leaves the machine.)"""
    dns["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
    opened: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append(address)
        raise ConnectionRefusedError("tests do not leave the machine")

    monkeypatch.setattr(media_fetch.urllib3_connection, "create_connection", create_connection)
    response = scan_url(api, f"http://rebind.test:{local_server.port}/face.jpg")
    assert response.status_code == 422 and response.json()["error"]["code"] == "media_fetch_failed"
    assert dns["_lookups"] == ["rebind.test"]
    assert opened == [("93.184.216.34", local_server.port)]
    assert local_server.received == []
    assert_nothing_stored(media_root)


def test_webhooks_go_through_the_same_guard(local_server: LocalServer, dns: dict[str, list[str]]) -> None:
    dns["hooks.test"] = ["127.0.0.1"]
    url = f"http://hooks.test:{local_server.port}/hook"
    refused = media_fetch.post(url, body=b"{}", headers={}, allowed_hosts=(), timeout_s=5)
    assert refused.status is None and "ForbiddenAddress" in refused.error
    assert local_server.received == []
    allowed = media_fetch.post(url, body=b"{}", headers={}, allowed_hosts=["hooks.test"], timeout_s=5)
    assert allowed.status == 200 and [r.path for r in local_server.received] == ["/hook"]
