"""The scan tests' fixtures: the real detector, platforms with API keys, media, a local HTTP server.

``tests/scans/conftest.py`` re-exports all of them; the reports, console, security and hardening
tests re-export the ones they use (``from tests.support import scan_fixtures as _scans``), so every
folder shares one definition.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.core.platforms import api_key_create
from moderation.core.shared_detector import reset_detectors
from tests.detection.fakeme_media import encode, make_random_weights, moving_face_frame, write_video
from tests.support.scans import LocalServer, PlatformFactory, Received

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_WEIGHTS = REPO_ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"


@pytest.fixture(scope="session")
def scan_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled detector when present, else a randomly initialised one of the same architecture."""
    if BUNDLED_WEIGHTS.is_file() and BUNDLED_WEIGHTS.with_suffix(".json").is_file():
        return BUNDLED_WEIGHTS
    return make_random_weights(tmp_path_factory.mktemp("scan-weights") / "random.safetensors")


@pytest.fixture(autouse=True)
def _scan_settings(settings: Any, scan_weights: Path, tmp_path: Path) -> Iterator[None]:
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WEIGHTS": [scan_weights], "THREADS": 1}
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    reset_detectors()


@pytest.fixture
def media_root(settings: Any) -> Path:
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def platform(db: None) -> Platform:
    return PlatformFactory()


@pytest.fixture
def client_for(db: None) -> Callable[[Platform], APIClient]:
    def make(platform: Platform) -> APIClient:
        _, raw = api_key_create(platform=platform, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def api(platform: Platform, client_for: Callable[[Platform], APIClient]) -> APIClient:
    return client_for(platform)


# -- media -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def face_jpeg(astronaut: np.ndarray) -> bytes:
    """A real photo of a face (scikit-image's astronaut, Eileen Collins)."""
    return encode(astronaut, "JPEG", quality=92)


@pytest.fixture(scope="session")
def no_face_jpeg() -> bytes:
    """A real photo without a face (a cup of coffee)."""
    from skimage import data

    return encode(np.ascontiguousarray(data.coffee()), "JPEG", quality=90)


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    """12 s at 5 fps, 320x240, the astronaut's head sliding across: 24 frames sampled at 2 fps."""
    head = cv2.resize(astronaut[0:300, 100:400], (120, 120), interpolation=cv2.INTER_AREA)
    path = tmp_path_factory.mktemp("scan-video") / "face.mp4"
    return write_video(path, lambda i: moving_face_frame(head, i, 60), 60, fps=5.0)


# -- a local HTTP server: media to fetch, redirects, and a webhook receiver --------------------------
@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    state = LocalServer("127.0.0.1", 0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.received.append(Received("GET", self.path, dict(self.headers), b""))
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.end_headers()
                return
            data = state.files.get(self.path)
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(
                Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = state.post_statuses.pop(0) if state.post_statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            if 200 <= status < 300:
                state.event.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hooked(platform: Platform, local_server: LocalServer) -> Platform:
    """``platform`` with its webhook pointed at the local server (allowed as a private host)."""
    platform.webhook_url = local_server.url("/hooks/fakeme")
    platform.allowed_private_hosts = ["127.0.0.1"]
    platform.save()
    return platform
