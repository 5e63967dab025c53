"""Every console page renders review items and scans in every state a scan can be in.

A reported post may have no scan yet (reported before it was ever scanned), a re-scan that is queued,
processing or failed (forever, if it failed), or a completed scan. The queue, the item page, the
scan pages, the archive, the dashboard, the audit log and its exports, the media files and the
generated pictures must answer for each of them (a page: 200 with the item's state in words; a
picture that does not exist yet: a readable 404), and a moderator must be able to act on each.

The pages walked are listed from the URL resolver: a new console URL without an entry here fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from moderation.core.media import media_from_bytes, media_read, media_store
from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from reports.models import Report, ReviewItem
from reports.services.reports import report_create
from reports.services.review_decisions import review_decide
from tests.support.console import console_route_names
from tests.support.reports import scanned_post
from tests.support.scans import upload

pytestmark = pytest.mark.django_db

# state -> the words a page shows for a scan in it (the verdict badge, or the "no scan" badge)
STATES: dict[str, str] = {
    "none": "no scan",
    "queued": "Queued",
    "processing": "Scanning",
    "failed": "Scan failed",
    "completed": "Fake",
    "uncertain": "Uncertain",  # completed between the review and the tag threshold
}


def _scan_in(platform: Platform, post: str, image: bytes, state: str) -> Scan:
    """A scan of one stored image, left in ``state`` as a worker would have left it."""
    if state == "completed":
        return scanned_post(platform, external_id=post, image=image, probability=0.91, verdict="fake")
    if state == "uncertain":  # the scan opens the post's review item itself; reports join it
        return scanned_post(platform, external_id=post, image=image, probability=0.6, verdict="uncertain")
    media = media_from_bytes(image, original_name="post.jpg")
    fields: dict[str, Any] = {"status": state, "mode": Scan.Mode.ASYNC, "hashtags_in": ["#moon"]}
    if state == "processing":
        fields |= {"progress_percent": 40, "attempts": 1}
    if state == "failed":
        fields |= {
            "error_code": "corrupt_media",
            "error_message": "The image could not be decoded.",
            "attempts": 3,
        }
    scan = Scan.objects.create(platform=platform, external_id=post, author_id="author-1", **fields)
    ScanMedia.objects.create(
        scan=scan,
        index=0,
        kind=media.kind,
        format=media.format,
        size_bytes=media.size,
        sha256=media.sha256,
        storage_key=media_store(media),
    )
    return scan


@dataclass
class World:
    items: dict[str, ReviewItem] = field(default_factory=dict)  # "report-<state>", "appeal-<state>", ...
    scans: dict[str, Scan] = field(default_factory=dict)  # every scan made, by a readable name


@pytest.fixture
def world(platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes) -> World:
    w = World()
    for state in STATES:
        post = f"post-{state}"
        if state == "none":  # reported before any scan: the report's own re-scan is still queued
            item = report_create(
                platform=platform,
                external_post_id=post,
                reporter_id="r-1",
                category="non_consensual",
                upload=upload("p.jpg", face_jpeg),
            ).item
        else:
            scan = _scan_in(platform, post, face_jpeg, state)
            w.scans[f"post-{state}"] = scan
            item = report_create(
                platform=platform, external_post_id=post, reporter_id="r-1", category="other", scan_id=scan.pk
            ).item
            ReviewItem.objects.filter(pk=item.pk).update(scan=scan, probability=scan.probability)
            # The report's re-scan is in the same state (a failed re-scan stays failed).
            rescan = Report.objects.get(review_item=item).scan
            Scan.objects.filter(pk=rescan.pk).update(
                status=scan.status, error_code=scan.error_code, progress_percent=scan.progress_percent
            )
        # a second reporter, sending other media (a photo without a face) to the same post
        report_create(
            platform=platform,
            external_post_id=post,
            reporter_id="r-2",
            category="impersonation",
            upload=upload("other.jpg", no_face_jpeg),
        )
        w.items[f"report-{state}"] = item
        for report in Report.objects.filter(review_item=item).select_related("scan"):
            w.scans[f"rescan-{state}-{report.reporter_id}"] = report.scan

        appeal_scan = None if state == "none" else _scan_in(platform, f"appealed-{state}", face_jpeg, state)
        if appeal_scan is not None:
            w.scans[f"appealed-{state}"] = appeal_scan
        w.items[f"appeal-{state}"] = ReviewItem.objects.create(
            platform=platform,
            kind=ReviewItem.Kind.APPEAL,
            external_post_id=f"appealed-{state}",
            scan=appeal_scan,
            probability=appeal_scan.probability if appeal_scan else None,
            appellant_id="author-1",
            appeal_statement="It is really me.",
            score=50.0,
        )
    # An uncertain scan nobody reported: the item it opened by itself, with no report on it.
    auto = _scan_in(platform, "auto-uncertain", face_jpeg, "uncertain")
    w.scans["auto-uncertain"] = auto
    w.items["auto-uncertain"] = ReviewItem.objects.get(scan=auto)
    return w


@pytest.fixture
def decided(world: World, staff: AbstractBaseUser) -> World:
    """Besides the open items: in every state, one item escalated and one confirmed (resolved)."""
    for state in STATES:
        for what, decision in (("escalated", "escalated"), ("resolved", "confirmed")):
            post = f"{what}-{state}"
            if state == "none":
                item = _reported_without_scan(world, post)
            else:
                scan = _scan_in(world.items["report-none"].platform, post, _image_of(world), state)
                world.scans[post] = scan
                item = report_create(
                    platform=scan.platform,
                    external_post_id=post,
                    reporter_id="r-1",
                    category="other",
                    scan_id=scan.pk,
                ).item
                ReviewItem.objects.filter(pk=item.pk).update(scan=scan, probability=scan.probability)
            item.refresh_from_db()
            review_decide(
                item_id=item.pk, user=staff, decision=decision, expected_version=item.version, note="checked"
            )
            world.items[f"{what}-{state}"] = ReviewItem.objects.get(pk=item.pk)
    return world


def _image_of(world: World) -> bytes:
    return media_read(world.scans["post-completed"].media.get().storage_key)


def _reported_without_scan(world: World, post: str) -> ReviewItem:
    return report_create(
        platform=world.items["report-none"].platform,
        external_post_id=post,
        reporter_id="r-1",
        category="other",
        upload=upload("p.jpg", _image_of(world)),
    ).item


def _body(response: Any) -> str:
    return response.content.decode()


def _ok(client: Client, url: str, *expected: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:2000])
    body = _body(response) if not response.streaming else b"".join(response.streaming_content).decode()
    for text in expected:
        assert text in body, (url, text)
    return body


def _row(body: str, item: ReviewItem) -> str:
    match = re.search(rf'<tr data-item="{item.pk}".*?</tr>', body, re.S)
    assert match, f"{item.external_post_id} is not in the queue"
    return match.group(0)


# -- the walk: one entry per console URL name ------------------------------------------------------
def _walk_queue(client: Client, w: World) -> None:
    active = _ok(client, reverse("console:queue"))
    for name, item in w.items.items():
        if item.is_active:
            row = _row(active, item)
            state = name.rsplit("-", 1)[1]
            assert STATES[state] in row, (name, row)
    for status, prefix in (("escalated", "escalated-"), ("resolved", "resolved-")):
        body = _ok(client, reverse("console:queue") + f"?status={status}")
        for name, item in w.items.items():
            if name.startswith(prefix):
                assert STATES[name.rsplit("-", 1)[1]] in _row(body, item)
    _ok(client, reverse("console:queue") + "?kind=appeal&order=created_at", "appealed-failed")
    _ok(client, reverse("console:queue") + "?category=model_uncertain", "auto-uncertain", "Model uncertain")
    _ok(client, reverse("console:queue") + "?kind=report&order=-created_at", "post-processing")


def _walk_item(client: Client, w: World) -> None:
    for name, item in w.items.items():
        state = name.rsplit("-", 1)[1]
        body = _ok(client, reverse("console:item", args=[item.pk]), item.external_post_id, STATES[state])
        if name.startswith("report-"):
            # every media reported on the post is evidence, whatever its scan's state: the post's
            # picture and the second reporter's other photo
            assert body.count('class="card evidence') == 2, name
        elif item.kind == ReviewItem.Kind.REPORT:
            assert body.count('class="card evidence') == 1, name
        if state == "failed":
            assert "corrupt_media" in body, name


def _walk_scan(client: Client, w: World) -> None:
    for name, scan in w.scans.items():
        words = {"completed": "Fake", "queued": "Queued", "processing": "Scanning", "failed": "Scan failed"}
        if scan.verdict == "uncertain":
            words["completed"] = "Uncertain"
        body = _ok(client, reverse("console:scan", args=[scan.pk]), scan.external_id)
        assert words[Scan.objects.get(pk=scan.pk).status] in body or scan.verdict, name


def _walk_scans(client: Client, w: World) -> None:
    _ok(client, reverse("console:scans"), "post-failed", "post-processing")
    _ok(client, reverse("console:scans") + "?verdict=uncertain", "auto-uncertain", "Uncertain")
    for status in ("queued", "processing", "failed", "completed"):
        _ok(client, reverse("console:scans") + f"?status={status}", f"post-{status}")


def _walk_scans_csv(client: Client, w: World) -> None:
    _ok(client, reverse("console:scans-csv"), "post-failed", "post-queued")


def _walk_media_file(client: Client, w: World) -> None:
    for scan in w.scans.values():
        response = client.get(reverse("console:media-file", args=[scan.pk, 0]))
        assert response.status_code == 200, (scan.external_id, scan.status)


def _walk_face_heatmap(client: Client, w: World) -> None:
    """No face found yet (queued, processing, failed, completed without boxes): a readable 404."""
    for scan in w.scans.values():
        response = client.get(reverse("console:face-heatmap", args=[scan.pk, 0, 0]))
        assert response.status_code == 404, (scan.external_id, response.status_code)
        assert b"face 0" in response.content


def _walk_media_thumb(client: Client, w: World) -> None:
    for name, scan in w.scans.items():  # stored images: a thumbnail whatever the scan's state
        response = client.get(reverse("console:media-thumb", args=[scan.pk, 0]))
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg", name
    assert (
        client.get(reverse("console:media-thumb", args=[w.scans["post-completed"].pk, 7])).status_code == 404
    )


def _walk_frame_thumb(client: Client, w: World) -> None:
    for scan in w.scans.values():  # images: no frames
        response = client.get(reverse("console:frame-thumb", args=[scan.pk, 0, 0]))
        assert response.status_code == 404, (scan.external_id, response.status_code)


def _walk_dashboard(client: Client, w: World) -> None:
    for days in (7, 30):
        _ok(client, reverse("console:dashboard") + f"?days={days}", "tile-scans")


def _walk_audit(client: Client, w: World) -> None:
    _ok(client, reverse("console:audit"), "post-failed", "post-none")


def _walk_audit_csv(client: Client, w: World) -> None:
    _ok(client, reverse("console:audit-csv"), "post-none")


def _walk_watermark(client: Client, w: World) -> None:
    _ok(client, reverse("console:watermark"))


def _walk_generations(client: Client, w: World) -> None:
    _ok(client, reverse("console:generations"))


def _walk_generation_thumb(client: Client, w: World) -> None:
    response = client.get(reverse("console:generation-thumb", args=["gen_0000000001", "output"]))
    assert response.status_code == 404


def _walk_login(client: Client, w: World) -> None:
    assert Client().get(reverse("console:login")).status_code == 200


def _walk_logout(client: Client, w: World) -> None:
    pass  # POST only, no item or scan on it (tests/console/test_console_access.py)


def _walk_reveal(client: Client, w: World) -> None:
    """Every scan's media can be revealed, whatever the scan's state (media of a queued scan too)."""
    for name, scan in w.scans.items():
        response = client.post(reverse("console:media-reveal", args=[scan.pk, 0]))
        assert response.status_code == 302, (name, response.status_code)
    missing = client.post(reverse("console:media-reveal", args=[w.scans["post-completed"].pk, 9]))
    assert missing.status_code == 302  # back to the scan with a message: it has no media 9


def _walk_blur_setting(client: Client, w: World) -> None:
    for value in ("off", "on"):
        assert client.post(reverse("console:blur-setting"), {"blur": value}).status_code == 302


def _walk_claim(client: Client, w: World) -> None:
    for name, item in w.items.items():
        if item.is_active:
            item.refresh_from_db()
            response = client.post(reverse("console:item-claim", args=[item.pk]), {"version": item.version})
            assert response.status_code == 302, (name, response.content[:500])
            assert ReviewItem.objects.get(pk=item.pk).assignee is not None, name


def _walk_release(client: Client, w: World) -> None:
    for name, item in w.items.items():
        if item.is_active:
            item.refresh_from_db()
            response = client.post(reverse("console:item-release", args=[item.pk]), {"version": item.version})
            assert response.status_code == 302, name
            assert ReviewItem.objects.get(pk=item.pk).assignee is None, name


def _walk_decide(client: Client, w: World) -> None:
    """Every open item can be decided, whatever its scan's state."""
    for name, item in w.items.items():
        item.refresh_from_db()
        if not item.is_active:
            continue
        decision = "confirmed" if item.kind == ReviewItem.Kind.REPORT else "appeal_upheld"
        page = _ok(client, reverse("console:item", args=[item.pk]))
        shown = re.findall(r'name="bank_media" value="([0-9a-f]{64})"', page)
        response = client.post(
            reverse("console:item-decide", args=[item.pk]),
            {"version": item.version, "decision": decision, "note": "seen", "bank_media": shown},
        )
        assert response.status_code == 302, (name, response.content[:500])
        assert ReviewItem.objects.get(pk=item.pk).decision == decision, name
    # ...and the pages still render afterwards
    for item in w.items.values():
        _ok(client, reverse("console:item", args=[item.pk]), item.external_post_id)
    _ok(client, reverse("console:queue") + "?status=resolved")


def _walk_bulk_decide(client: Client, w: World) -> None:
    """A bulk dismissal of the open reported posts, one in each state (allow bank asked: it banks
    nothing, a bulk decision shows no media)."""
    items = [w.items[f"report-{state}"] for state in STATES]
    for item in items:
        item.refresh_from_db()
    response = client.post(
        reverse("console:bulk-decide"),
        {
            "items": [f"{i.pk}:{i.version}" for i in items],
            "decision": "dismissed",
            "note": "not a deepfake",
            "allow_bank": "1",
        },
    )
    assert response.status_code == 302
    assert {ReviewItem.objects.get(pk=i.pk).decision for i in items} == {"dismissed"}


WALK: dict[str, Callable[[Client, World], None]] = {
    "queue": _walk_queue,
    "item": _walk_item,
    "scan": _walk_scan,
    "scans": _walk_scans,
    "scans-csv": _walk_scans_csv,
    "media-file": _walk_media_file,
    "face-heatmap": _walk_face_heatmap,
    "frame-thumb": _walk_frame_thumb,
    "media-thumb": _walk_media_thumb,
    "dashboard": _walk_dashboard,
    "audit": _walk_audit,
    "audit-csv": _walk_audit_csv,
    "watermark": _walk_watermark,
    "generations": _walk_generations,
    "generation-thumb": _walk_generation_thumb,
    "login": _walk_login,
    "logout": _walk_logout,
    # actions last: they change the items' states (the pages are walked again after them)
    "media-reveal": _walk_reveal,
    "blur-setting": _walk_blur_setting,
    "item-claim": _walk_claim,
    "item-release": _walk_release,
    "bulk-decide": _walk_bulk_decide,
    "item-decide": _walk_decide,
}


def test_the_walk_covers_every_console_url() -> None:
    assert console_route_names() - set(WALK) == set(), "console URLs the state walk misses: add them to WALK"
    assert set(WALK) - console_route_names() == set(), "WALK entries for console URLs that no longer exist"


def test_every_console_page_renders_items_in_every_scan_state(staff_client: Client, decided: World) -> None:
    for walk in WALK.values():
        walk(staff_client, decided)


def test_queue_with_one_never_scanned_item_answers_200(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    """The reported case: one open report on a never-scanned post made the queue a 500 for everyone."""
    item = report_create(
        platform=platform,
        external_post_id="never-scanned",
        reporter_id="u1",
        category="other",
        upload=upload("p.jpg", face_jpeg),
    ).item
    assert item.scan is None
    body = _ok(staff_client, reverse("console:queue"), "never-scanned")
    assert "no scan" in _row(body, item)


def test_no_template_filter_argument_reaches_through_a_relation() -> None:
    """The class of the queue's 500: Django silences a failed lookup in a variable, but not in a
    filter's argument (``|score_class:item.scan.threshold`` raised when the item had no scan). Filter
    arguments take a value the view computed, at most one lookup deep (``row.threshold``)."""
    templates = sorted((Path(__file__).resolve().parents[2] / "templates").rglob("*.html"))
    assert templates
    deep = re.compile(r"\|\w+:([A-Za-z_]\w*(?:\.\w+){2,})")
    found = [f"{t.name}: {m}" for t in templates for m in deep.findall(t.read_text())]
    assert found == []
