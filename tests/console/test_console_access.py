"""Who may open the console: every page (listed from the URL resolver: a new page without an entry
here fails) × anonymous (login redirect), non-staff (403), staff (200), superuser (200); signing in and
out; CSRF on every form, and pages without a form refuse POST; readable error pages."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from generation.models import Generation
from moderation.core.media import media_from_bytes, media_store
from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan
from moderation.scans.submission import scan_submit
from reports.models import ReviewItem
from tests.support.console import console_route_names
from tests.support.reports import reported_post
from tests.support.scans import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(platform: Platform, face_jpeg: bytes) -> ReviewItem:
    return reported_post(
        platform, external_id="post-access", image=face_jpeg, probability=0.7, verdict="fake"
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # About access, not hashing: each test makes several users, and PBKDF2 costs ~1 s per password here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("root", password="x-unused-1")


@pytest.fixture
def video_scan(platform: Platform, face_video: Path, django_capture_on_commit_callbacks: Any) -> Scan:
    with django_capture_on_commit_callbacks(execute=True):
        scan = scan_submit(
            platform=platform,
            uploads=[upload("clip.mp4", face_video.read_bytes(), "video/mp4")],
            external_id="post-video",
            force_async=True,
        ).scan
    scan.refresh_from_db()
    assert scan.status == Scan.Status.COMPLETED, scan.error_message
    return scan


@pytest.fixture
def generation(platform: Platform, face_jpeg: bytes) -> Generation:
    """A completed generation's row with its three stored files (the engine itself is not the topic)."""
    media = media_from_bytes(face_jpeg, original_name="face.jpg")
    files = {role: media_store(media) for role in ("source", "target", "output")}
    return Generation.objects.create(
        id=secrets.randbelow((1 << 40) - 1) + 1, platform=platform, user_id="u", consent_statement="Agreed.",
        engine=Generation.Engine.LANDMARK, seed=1, source_sha256=media.sha256, source_format=media.format,
        source_size_bytes=media.size, source_storage_key=files["source"], target_kind="image",
        target_sha256=media.sha256, target_format=media.format, target_size_bytes=media.size,
        target_storage_key=files["target"], status=Generation.Status.COMPLETED, output_kind="image",
        output_format=media.format, output_sha256=media.sha256, output_size_bytes=media.size,
        output_storage_key=files["output"],
    )  # fmt: skip


@pytest.fixture
def video_frame(video_scan: Scan) -> tuple[Any, int]:
    """(scan id, index of a sampled frame with a face) of a real video scan."""
    return video_scan.pk, next(f["index"] for f in video_scan.media.get().result["frames"] if f["faces"])


def _frame_args(scan_and_frame: tuple[Any, int]) -> list[Any]:
    return [scan_and_frame[0], 0, scan_and_frame[1]]  # the scan, its media 0, the frame


class _Unsaved:
    """Stands in for the fixtures where only the URL's shape matters (a 405 comes before any lookup)."""

    def getfixturevalue(self, name: str) -> Any:
        if name == "video_frame":
            return uuid.uuid4(), 0
        if name == "generation":
            return SimpleNamespace(generation_id="gen_0000000001")
        return SimpleNamespace(pk=uuid.uuid4(), scan=SimpleNamespace(pk=uuid.uuid4()))


# Every console URL (by name) -> the URL of a real object, built from fixtures on demand (r: pytest's
# request). Most are pages; LOGIN_PAGE and POST_ONLY have their own expectations.
Page = Callable[[Any], str]
PAGES: dict[str, Page] = {
    "queue": lambda r: reverse("console:queue"),
    "item": lambda r: reverse("console:item", args=[r.getfixturevalue("item").pk]),
    "scans": lambda r: reverse("console:scans"),
    "scan": lambda r: reverse("console:scan", args=[r.getfixturevalue("item").scan.pk]),
    "scans-csv": lambda r: reverse("console:scans-csv"),
    "media-file": lambda r: reverse("console:media-file", args=[r.getfixturevalue("item").scan.pk, 0]),
    "media-thumb": lambda r: reverse("console:media-thumb", args=[r.getfixturevalue("item").scan.pk, 0]),
    "face-heatmap": lambda r: reverse("console:face-heatmap", args=[r.getfixturevalue("face_scan").pk, 0, 0]),
    "frame-thumb": lambda r: reverse(
        "console:frame-thumb", args=_frame_args(r.getfixturevalue("video_frame"))
    ),
    "dashboard": lambda r: reverse("console:dashboard"),
    "audit": lambda r: reverse("console:audit"),
    "audit-csv": lambda r: reverse("console:audit-csv"),
    "watermark": lambda r: reverse("console:watermark"),
    "generations": lambda r: reverse("console:generations"),
    "generation-thumb": lambda r: reverse(
        "console:generation-thumb", args=[r.getfixturevalue("generation").generation_id, "output"]
    ),
    "login": lambda r: reverse("console:login"),
}
# Form targets that answer POST only (GET is 405); their CSRF and access checks are below.
POST_ONLY: dict[str, Page] = {
    "logout": lambda r: reverse("console:logout"),
    "bulk-decide": lambda r: reverse("console:bulk-decide"),
    "item-claim": lambda r: reverse("console:item-claim", args=[r.getfixturevalue("item").pk]),
    "item-release": lambda r: reverse("console:item-release", args=[r.getfixturevalue("item").pk]),
    "item-decide": lambda r: reverse("console:item-decide", args=[r.getfixturevalue("item").pk]),
    "media-reveal": lambda r: reverse("console:media-reveal", args=[r.getfixturevalue("item").scan.pk, 0]),
    "blur-setting": lambda r: reverse("console:blur-setting"),
}
FORM_PAGES = {"watermark", "login"}  # pages that also take their own form's POST


def test_every_console_url_has_an_access_entry() -> None:
    names = console_route_names()
    listed = set(PAGES) | set(POST_ONLY)
    assert names - listed == set(), "console URLs without an access check: add them to PAGES or POST_ONLY"
    assert listed - names == set(), "entries for console URLs that no longer exist"


def _signed_in(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_by_role(
    page: str,
    request: pytest.FixtureRequest,
    non_staff: AbstractBaseUser,
    staff: AbstractBaseUser,
    superuser: AbstractBaseUser,
) -> None:
    url = PAGES[page](request)

    anonymous = Client().get(url)
    if page == "login":  # the one public page
        assert anonymous.status_code == 200 and b'name="password"' in anonymous.content
    else:
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(reverse("console:login") + "?next=")

    forbidden = _signed_in(non_staff).get(url)
    if page == "login":  # signed in already: sent on, to a page that then refuses non-staff
        assert forbidden.status_code == 302 and forbidden["Location"] == reverse("console:queue")
    else:
        assert forbidden.status_code == 403
        assert b"is not a staff account" in forbidden.content

    for user in (staff, superuser):
        ok = _signed_in(user).get(url)
        expected = 302 if page == "login" else 200
        assert ok.status_code == expected, (user, ok.content[:500] if not ok.streaming else "")


@pytest.mark.parametrize("page", sorted(POST_ONLY))
def test_form_targets_by_role(
    page: str, request: pytest.FixtureRequest, non_staff: AbstractBaseUser, staff: AbstractBaseUser
) -> None:
    """GET is refused (405) to everyone; a POST of a non-staff user is 403 and changes nothing."""
    url = POST_ONLY[page](request)
    for user in (None, non_staff, staff):
        assert _signed_in(user).get(url).status_code == 405, (page, user)
    if page == "logout":
        return  # anyone signed in may sign out
    anonymous = Client().post(url, {})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("console:login"))
    refused = _signed_in(non_staff).post(url, {"version": 1, "decision": "confirmed"})
    assert refused.status_code == 403 and b"is not a staff account" in refused.content
    assert not ReviewItem.objects.exclude(decision="").exists()
    assert not ReviewItem.objects.exclude(assignee=None).exists()


@pytest.mark.parametrize("page", sorted(set(PAGES) - FORM_PAGES))
def test_pages_without_a_form_refuse_post(page: str, staff: AbstractBaseUser) -> None:
    """No page takes a POST it does not CSRF-check below: those without a form answer 405."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = PAGES[page](_Unsaved())
    token = _token(client, reverse("console:queue"))
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 405


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


@pytest.mark.parametrize("form", sorted(set(POST_ONLY) | FORM_PAGES))
def test_csrf_is_enforced_on_every_form(form: str, item: ReviewItem, staff: AbstractBaseUser) -> None:
    """Every URL that takes a POST (the lists above, checked against the resolver) refuses one without
    the CSRF token, before it changes anything."""
    client = _csrf_client(staff)
    urls: dict[str, tuple[str, dict[str, Any]]] = {
        "item-claim": (reverse("console:item-claim", args=[item.pk]), {"version": item.version}),
        "item-decide": (
            reverse("console:item-decide", args=[item.pk]),
            {"version": item.version, "decision": "confirmed"},
        ),
        "item-release": (reverse("console:item-release", args=[item.pk]), {"version": item.version}),
        "bulk-decide": (
            reverse("console:bulk-decide"),
            {"items": [f"{item.pk}:{item.version}"], "decision": "confirmed"},
        ),
        "watermark": (reverse("console:watermark"), {}),
        "media-reveal": (reverse("console:media-reveal", args=[item.scan.pk, 0]), {}),
        "blur-setting": (reverse("console:blur-setting"), {"blur": "off"}),
        "logout": (reverse("console:logout"), {}),
        "login": (reverse("console:login"), {"username": "alice", "password": "x"}),
    }
    url, data = urls[form]
    refused = client.post(url, data)
    assert refused.status_code == 403
    assert b"security token was missing or out of date" in refused.content
    item.refresh_from_db()
    assert item.version == 1 and item.assignee is None and item.decision == ""
    assert not AuditEntry.objects.filter(action__in=["media.reveal", "moderator.settings"]).exists()

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
