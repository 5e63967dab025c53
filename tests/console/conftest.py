"""Fixtures for the console tests: the scan and report tests' fixtures (real detector, platforms, media,
moderators), signed-in clients, and real scans made through the scan service.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from moderation.core.models import Platform
from moderation.scans.models import Scan
from tests.support import scan_fixtures as _scans
from tests.support.console import submit_image
from tests.support.reports import moderator
from tests.support.scans import PlatformFactory

_scan_settings = _scans._scan_settings  # autouse: detector weights, MEDIA_ROOT in a tmp dir
scan_weights = _scans.scan_weights
media_root = _scans.media_root
platform = _scans.platform
astronaut = _scans.astronaut
face_jpeg = _scans.face_jpeg
no_face_jpeg = _scans.no_face_jpeg
face_video = _scans.face_video


@pytest.fixture(autouse=True)
def _console_settings(settings: Any) -> None:
    # Each test starts with an empty cache (heatmaps and thumbnails are cached by media id).
    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": locmem, "LOCATION": "console-tests"}}
    from django.core.cache import cache

    cache.clear()
    # The tests make many reports by the same reporter; the per-reporter limit is the reports tests' topic.
    settings.FAKEME_REPORTS = {**settings.FAKEME_REPORTS, "REPORTER_RATE_LIMIT": "100000/hour"}


@pytest.fixture
def staff(db: None) -> AbstractBaseUser:
    return moderator("alice")


@pytest.fixture
def other_staff(db: None) -> AbstractBaseUser:
    return moderator("bob")


@pytest.fixture
def non_staff(db: None) -> AbstractBaseUser:
    return moderator("visitor", staff=False)


@pytest.fixture
def staff_client(staff: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def make_platform(db: None) -> Any:
    return PlatformFactory


@pytest.fixture
def face_scan(platform: Platform, face_jpeg: bytes) -> Scan:
    scan = submit_image(platform, face_jpeg, external_id="post-face")
    assert scan.status == Scan.Status.COMPLETED
    assert scan.media.get().result["faces"], "the astronaut has a face"
    return scan
