"""Who may open the console: every page × anonymous (login redirect), non-staff (403), staff (200);
signing in and out; CSRF on every form; readable error pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from report_helpers import reported_post

from moderation.models import Platform, Scan
from reports.models import ReviewItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(platform: Platform, face_jpeg: bytes) -> ReviewItem:
    return reported_post(
        platform, external_id="post-access", image=face_jpeg, probability=0.7, verdict="fake"
    )


PAGES: dict[str, Callable[[ReviewItem, Scan], str]] = {
    "queue": lambda item, scan: reverse("console:queue"),
    "item": lambda item, scan: reverse("console:item", args=[item.pk]),
    "scans": lambda item, scan: reverse("console:scans"),
    "scan": lambda item, scan: reverse("console:scan", args=[scan.pk]),
    "scans-csv": lambda item, scan: reverse("console:scans-csv"),
    "media-file": lambda item, scan: reverse("console:media-file", args=[scan.pk, 0]),
    "dashboard": lambda item, scan: reverse("console:dashboard"),
    "audit": lambda item, scan: reverse("console:audit"),
    "audit-csv": lambda item, scan: reverse("console:audit-csv"),
    "watermark": lambda item, scan: reverse("console:watermark"),
    "generations": lambda item, scan: reverse("console:generations"),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_by_role(
    page: str, item: ReviewItem, non_staff: AbstractBaseUser, staff_client: Client
) -> None:
    assert item.scan is not None
    url = PAGES[page](item, item.scan)

    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("console:login") + "?next=")

    visitor = Client()
    visitor.force_login(non_staff)
    forbidden = visitor.get(url)
    assert forbidden.status_code == 403
    assert b"is not a staff account" in forbidden.content

    ok = staff_client.get(url)
    assert ok.status_code == 200, ok.content[:500]


def test_sign_in_and_out(staff: AbstractBaseUser) -> None:
    client = Client()
    staff.set_password("correct horse battery")
    staff.save()
    wrong = client.post(reverse("console:login"), {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and b"did not match a staff account" in wrong.content

    response = client.post(
        reverse("console:login"),
        {"username": "alice", "password": "correct horse battery", "next": reverse("console:dashboard")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")
    assert client.get(reverse("console:queue")).status_code == 200

    out = client.post(reverse("console:logout"))
    assert out.status_code == 302 and out["Location"] == reverse("console:login")
    assert client.get(reverse("console:queue")).status_code == 302


def _csrf_client(user: AbstractBaseUser) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _token(client: Client, url: str) -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize(
    "form",
    ["claim", "decide", "release", "bulk", "watermark", "logout"],
)
def test_csrf_is_enforced_on_every_form(form: str, item: ReviewItem, staff: AbstractBaseUser) -> None:
    client = _csrf_client(staff)
    urls: dict[str, tuple[str, dict[str, Any]]] = {
        "claim": (reverse("console:item-claim", args=[item.pk]), {"version": item.version}),
        "decide": (
            reverse("console:item-decide", args=[item.pk]),
            {"version": item.version, "decision": "confirmed"},
        ),
        "release": (reverse("console:item-release", args=[item.pk]), {"version": item.version}),
        "bulk": (
            reverse("console:bulk-decide"),
            {"items": [f"{item.pk}:{item.version}"], "decision": "confirmed"},
        ),
        "watermark": (reverse("console:watermark"), {}),
        "logout": (reverse("console:logout"), {}),
    }
    url, data = urls[form]
    refused = client.post(url, data)
    assert refused.status_code == 403
    assert b"security token was missing or out of date" in refused.content
    item.refresh_from_db()
    assert item.version == 1 and item.assignee is None and item.decision == ""

    data["csrfmiddlewaretoken"] = _token(client, reverse("console:queue"))
    accepted = client.post(url, data)
    assert accepted.status_code in (200, 302, 400), accepted.status_code


def test_csrf_token_lets_a_claim_through(item: ReviewItem, staff: AbstractBaseUser) -> None:
    client = _csrf_client(staff)
    token = _token(client, reverse("console:item", args=[item.pk]))
    response = client.post(
        reverse("console:item-claim", args=[item.pk]), {"version": item.version, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.assignee == staff


def test_missing_things_are_readable_pages(staff_client: Client) -> None:
    missing_scan = staff_client.get(reverse("console:scan", args=["7d0e4b5e-52c8-4d8a-9c36-6f4b4a3b2a11"]))
    assert missing_scan.status_code == 404 and b"No such scan." in missing_scan.content
    missing_item = staff_client.get(reverse("console:item", args=["7d0e4b5e-52c8-4d8a-9c36-6f4b4a3b2a11"]))
    assert missing_item.status_code == 404 and b"No such review item." in missing_item.content
    wrong_method = staff_client.post(reverse("console:scans"))
    assert wrong_method.status_code == 405 and wrong_method["Allow"] == "GET"
    assert b"This address answers GET requests, not POST." in wrong_method.content
