"""Media URLs: private, loopback, link-local and metadata addresses are refused, redirects included.

No request in these tests leaves the machine: a refused address is refused before any connection
(the guard resolves and checks first), and the only server contacted is the test's own on 127.0.0.1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from moderation.core.media_fetch import AddressGuard, ForbiddenAddress
from moderation.core.models import Platform
from moderation.scans.models import Scan
from tests.support.scans import LocalServer, stored_files

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def scan_url(api: APIClient, url: str):
    return api.post(SCANS, {"media_urls": [url]}, format="json")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/face.jpg",  # loopback
        "http://127.8.9.10:{port}/face.jpg",  # all of 127/8
        "http://[::1]:{port}/face.jpg",  # IPv6 loopback
        "http://[::ffff:127.0.0.1]:{port}/face.jpg",  # IPv4-mapped IPv6
        "http://0.0.0.0:{port}/face.jpg",  # unspecified
        "http://10.0.0.1/face.jpg",  # private
        "http://172.16.5.4/face.jpg",  # private
        "http://192.168.1.1/face.jpg",  # private
        "http://100.64.0.1/face.jpg",  # carrier-grade NAT
        "http://[fd00::1]/face.jpg",  # unique local IPv6
        "http://169.254.10.20/face.jpg",  # link-local
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fe80::1]/face.jpg",  # IPv6 link-local
        "http://localhost:{port}/face.jpg",  # a host name resolving to 127.0.0.1
        "http://2130706433:{port}/face.jpg",  # 127.0.0.1 written as an integer
    ],
)
def test_non_public_addresses_are_refused(
    api: APIClient, local_server: LocalServer, face_jpeg: bytes, media_root: Path, url: str
) -> None:
    local_server.files["/face.jpg"] = face_jpeg
    response = scan_url(api, url.format(port=local_server.port))
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "media_url_forbidden"
    assert local_server.received == []  # the server was never contacted
    assert Scan.objects.count() == 0 and stored_files(media_root) == []


def test_redirect_to_loopback_is_refused(
    api: APIClient, platform: Platform, local_server: LocalServer, face_jpeg: bytes
) -> None:
    """127.0.0.1 is allowed for this platform by name; its redirects to other names are still checked."""
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    local_server.files["/secret.jpg"] = face_jpeg
    local_server.redirects["/to-localhost"] = f"http://localhost:{local_server.port}/secret.jpg"
    local_server.redirects["/to-metadata"] = "http://169.254.169.254/latest/meta-data/"
    for path in ("/to-localhost", "/to-metadata"):
        response = scan_url(api, local_server.url(path))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "media_url_forbidden"
    assert [r.path for r in local_server.received] == ["/to-localhost", "/to-metadata"]
    assert Scan.objects.count() == 0


def test_allowed_host_and_followed_redirect_work(
    api: APIClient, platform: Platform, local_server: LocalServer, face_jpeg: bytes
) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    local_server.files["/cdn/face.jpg"] = face_jpeg
    local_server.redirects["/p/1"] = "/cdn/face.jpg"
    response = scan_url(api, local_server.url("/p/1"))
    assert response.status_code == 200, response.content
    assert response.json()["media"][0]["sha256"]


def test_fetch_size_limit(
    api: APIClient, platform: Platform, local_server: LocalServer, face_jpeg: bytes
) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.max_upload_bytes = 1000
    platform.save()
    local_server.files["/big.jpg"] = face_jpeg
    response = scan_url(api, local_server.url("/big.jpg"))
    assert response.status_code == 413 and response.json()["error"]["code"] == "media_too_large"


def test_fetch_http_error(api: APIClient, platform: Platform, local_server: LocalServer) -> None:
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    response = scan_url(api, local_server.url("/missing.jpg"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "media_fetch_failed"


def test_guard_refuses_a_mixed_dns_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name answering with a public AND a private address is refused (DNS rebinding)."""
    import socket

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(ForbiddenAddress):
        AddressGuard().resolve("rebind.example", 80)
    assert AddressGuard.for_hosts(["rebind.example"]).resolve("rebind.example", 80)


def test_fetch_deadline_stops_a_trickling_server(api: APIClient, platform: Platform, settings) -> None:
    """A server dribbling a byte at a time cannot hold the request past the download deadline."""
    import socket
    import threading

    settings.FAKEME_SCANS = {**settings.FAKEME_SCANS, "FETCH_DEADLINE_S": 1.0, "FETCH_TIMEOUT_S": 2.0}
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n\xff\xd8\xff")
        while not stop.wait(0.2):
            try:
                conn.sendall(b"\x00")
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        response = scan_url(api, f"http://127.0.0.1:{listener.getsockname()[1]}/slow.jpg")
    finally:
        stop.set()
        listener.close()
    assert response.status_code == 422 and response.json()["error"]["code"] == "media_fetch_timeout"
    assert time.monotonic() - started < 5
