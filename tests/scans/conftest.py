"""Fixtures for the scan API tests: the real detector, platforms with API keys, media, a local HTTP server
(defined in ``tests/support/scan_fixtures.py``, which other folders' conftests re-export too)."""

from __future__ import annotations

from tests.support.scan_fixtures import (  # noqa: F401  (fixtures pytest finds here)
    _scan_settings,
    api,
    astronaut,
    client_for,
    face_jpeg,
    face_video,
    hooked,
    local_server,
    media_root,
    no_face_jpeg,
    platform,
    scan_weights,
)
