"""The console's page registry (``reports.console.pages``): every console URL is one entry, the URL
patterns and the navigation bar are built from it, and the paths and names stay what they were."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from moderation.core.models import Platform
from reports.console import urls
from reports.console.pages import PAGES, PUBLIC, STAFF, nav_pages
from reports.models import ReviewItem
from tests.support.console import console_route_names

pytestmark = pytest.mark.django_db

ITEM, SCAN = "7d0e4b5e-52c8-4d8a-9c36-6f4b4a3b2a11", "0b6f1c2e-9a4d-4f7e-8c3b-2d1e0f9a8b7c"
# name -> (the URL's arguments, its path): the console's public addresses.
PATHS = {
    "login": ([], "/console/login/"),
    "logout": ([], "/console/logout/"),
    "queue": ([], "/console/"),
    "bulk-decide": ([], "/console/items/bulk/"),
    "item": ([ITEM], f"/console/items/{ITEM}/"),
    "item-claim": ([ITEM], f"/console/items/{ITEM}/claim/"),
    "item-release": ([ITEM], f"/console/items/{ITEM}/release/"),
    "item-decide": ([ITEM], f"/console/items/{ITEM}/decide/"),
    "audit": ([], "/console/audit/"),
    "audit-csv": ([], "/console/audit/export.csv"),
    "dashboard": ([], "/console/dashboard/"),
    "scans": ([], "/console/scans/"),
    "scans-csv": ([], "/console/scans/export.csv"),
    "scan": ([SCAN], f"/console/scans/{SCAN}/"),
    "media-file": ([SCAN, 2], f"/console/scans/{SCAN}/media/2/"),
    "media-reveal": ([SCAN, 2], f"/console/scans/{SCAN}/media/2/reveal/"),
    "media-thumb": ([SCAN, 2], f"/console/scans/{SCAN}/media/2/thumb.jpg"),
    "blur-setting": ([], "/console/settings/blur/"),
    "face-heatmap": ([SCAN, 2, 1], f"/console/scans/{SCAN}/media/2/faces/1/heatmap.png"),
    "frame-thumb": ([SCAN, 2, 30], f"/console/scans/{SCAN}/media/2/frames/30.jpg"),
    "watermark": ([], "/console/tools/watermark/"),
    "generations": ([], "/console/generations/"),
    "generation-thumb": (["gen_00000000ab", "output"], "/console/generations/gen_00000000ab/output.jpg"),
}
NAV = [
    ("/console/", "Queue"),
    ("/console/scans/", "Scans"),
    ("/console/dashboard/", "Dashboard"),
    ("/console/audit/", "Audit"),
    ("/console/tools/watermark/", "Watermark"),
    ("/console/generations/", "Generations"),
]


def _nav(html: str) -> list[tuple[str, str]]:
    bar = re.search(r'<nav class="nav" aria-label="Console">(.*?)</nav>', html, re.S)
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', bar.group(1)) if bar else []


def _current(html: str) -> list[str]:
    bar = re.search(r'<nav class="nav" aria-label="Console">(.*?)</nav>', html, re.S)
    return re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', bar.group(1)) if bar else []


def test_every_console_url_is_a_registry_entry_with_its_old_path() -> None:
    names = [page.name for page in PAGES]
    assert len(names) == len(set(names))
    assert set(names) == console_route_names() == set(PATHS) == set(urls.VIEWS)
    for name, (args, path) in PATHS.items():
        assert reverse(f"console:{name}", args=args) == path, name
    assert {page.name for page in PAGES if page.permission == PUBLIC} == {"login", "logout"}
    assert all(page.permission in (STAFF, PUBLIC) for page in PAGES)
    for page in PAGES:  # a page a moderator navigates to has a template; a nav entry is a page
        assert not page.nav_label or page.template, page.name
        assert not page.section or page.section in {p.name for p in PAGES if p.nav_label}, page.name


def test_the_navigation_bar_is_the_registrys(
    staff_client: Client, staff: AbstractBaseUser, non_staff: AbstractBaseUser, platform: Platform
) -> None:
    assert [(reverse(f"console:{p.name}"), p.nav_label) for p in nav_pages(staff)] == NAV
    assert nav_pages(non_staff) == [] and nav_pages(None) == []
    for page in PAGES:
        if page.nav_label:
            html = staff_client.get(reverse(f"console:{page.name}")).content.decode()
            assert _nav(html) == NAV, page.name
            assert _current(html) == [page.nav_label], page.name
            assert f"<title>{page.title} · FakeME console</title>" in html, page.name

    item = ReviewItem.objects.create(platform=platform, external_post_id="p-nav")
    html = staff_client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert _current(html) == ["Queue"]  # the item page sits under the queue
    missing = staff_client.get(reverse("console:item", args=[ITEM])).content.decode()
    assert _nav(missing) == NAV and _current(missing) == []  # an error page is no page's

    signed_in = Client()
    signed_in.force_login(non_staff)
    assert _nav(signed_in.get(reverse("console:queue")).content.decode()) == []
    login = Client().get(reverse("console:login")).content.decode()
    assert _nav(login) == [] and "<title>Sign in · FakeME console</title>" in login
