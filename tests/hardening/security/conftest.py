"""The scan tests' fixtures (real detector weights, a platform and its API client, media, a local
HTTP server) for every security test here, re-exported once instead of in each file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import scan_fixtures as _scans

_scan_settings = _scans._scan_settings  # autouse: detector weights, MEDIA_ROOT in a tmp dir
scan_weights = _scans.scan_weights
media_root = _scans.media_root
astronaut = _scans.astronaut
face_jpeg = _scans.face_jpeg
no_face_jpeg = _scans.no_face_jpeg
platform = _scans.platform
client_for = _scans.client_for
api = _scans.api
local_server = _scans.local_server


@pytest.fixture(autouse=True)
def _local_cache(settings: Any) -> None:
    """A fresh in-process cache per test: throttles, login failures and generation limits are counted
    there, and under CI the default cache is the shared Redis."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "security-tests"}
    }
    from django.core.cache import cache

    cache.clear()
