"""Fixtures for the reports tests: the scan tests' fixtures (platforms, API clients, media, a local
HTTP server for webhooks, the real detector) plus moderators.

The scan fixtures are imported from ``tests/scans/conftest.py`` under another module name, so both
directories share one definition without moving it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser

TESTS = Path(__file__).resolve().parents[1]
for folder in ("scans", "reports", "detection"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))


from scan_helpers import load_scan_fixtures  # noqa: E402

_scans = load_scan_fixtures()
# Fixtures pytest should see here (the autouse one pins the detector weights and MEDIA_ROOT).
_scan_settings = _scans._scan_settings
scan_weights = _scans.scan_weights
media_root = _scans.media_root
platform = _scans.platform
client_for = _scans.client_for
api = _scans.api
astronaut = _scans.astronaut
face_jpeg = _scans.face_jpeg
no_face_jpeg = _scans.no_face_jpeg
local_server = _scans.local_server
hooked = _scans.hooked

from report_helpers import moderator  # noqa: E402


@pytest.fixture
def make_moderator(db: None) -> Callable[..., AbstractBaseUser]:
    return moderator


@pytest.fixture
def alice(db: None) -> AbstractBaseUser:
    return moderator("alice")


@pytest.fixture
def bob(db: None) -> AbstractBaseUser:
    return moderator("bob")
