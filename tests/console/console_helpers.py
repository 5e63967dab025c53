"""Helpers shared by the console tests (a plain module: the console conftest puts it on sys.path)."""

from __future__ import annotations

from scan_helpers import upload

from moderation.models import Platform, Scan
from moderation.services.scans import scan_submit


def submit_image(platform: Platform, data: bytes, *, external_id: str, name: str = "p.jpg") -> Scan:
    """A real synchronous scan (the real detector) of one image, as the scan API makes it."""
    return scan_submit(platform=platform, uploads=[upload(name, data)], external_id=external_id).scan
