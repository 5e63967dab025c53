"""Helpers shared by the console tests."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from moderation.core.models import Platform
from moderation.scans.models import Scan
from moderation.scans.submission import scan_submit
from tests.support.scans import upload


def submit_image(platform: Platform, data: bytes, *, external_id: str, name: str = "p.jpg") -> Scan:
    """A real synchronous scan (the real detector) of one image, as the scan API makes it."""
    return scan_submit(platform=platform, uploads=[upload(name, data)], external_id=external_id).scan


def console_route_names() -> set[str]:
    """The name of every console URL, listed from the URL resolver (tests that must cover them all)."""
    names: set[str] = set()

    def walk(patterns: list[Any], base: str) -> None:
        for pattern in patterns:
            route = base + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("console/"):
                assert pattern.name, f"unnamed console URL {route}"
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names
