"""Fixtures for the reports tests: the scan tests' fixtures (platforms, API clients, media, a local
HTTP server for webhooks, the real detector) plus moderators.

The scan fixtures are defined once in ``tests/support/scan_fixtures.py`` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractBaseUser

from tests.support import scan_fixtures as _scans
from tests.support.reports import moderator

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


@pytest.fixture
def make_moderator(db: None) -> Callable[..., AbstractBaseUser]:
    return moderator


@pytest.fixture
def alice(db: None) -> AbstractBaseUser:
    return moderator("alice")


@pytest.fixture
def bob(db: None) -> AbstractBaseUser:
    return moderator("bob")
