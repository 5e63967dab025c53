"""End to end in a real headless Chromium (Debian's package, driven by Playwright; no browser download):
sign in, drive the queue with the keyboard (move, claim, confirm, a dismissal that needs a note),
see the audit entry, see the dashboard chart and the item's heatmap render, take screenshots at
1366×768, and check that every page fits a phone (390×844) without horizontal scrolling.

CI installs chromium (``.ci/run``) and sets ``FAKEME_CI``: there a missing browser fails the test.
Elsewhere it is skipped with the reason. Screenshots go to a temporary folder, or to
``docs/screenshots/`` when ``FAKEME_UPDATE_SCREENSHOTS=1`` (how the README's pictures are made).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from PIL import Image

from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import ScanMedia
from reports.models import ReviewItem
from tests.support.reports import reported_post, scanned_post
from watermark.credentials import IPTC

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MAX_SCREENSHOT_BYTES = 300 * 1024
PASSWORD = "a long test password 4 the console"


def _unavailable(reason: str) -> None:
    if os.environ.get("FAKEME_CI"):
        pytest.fail(f"{reason} (CI installs it: .ci/run)")
    pytest.skip(f"{reason}; install Debian's chromium (apt-get install chromium) to run the browser tests")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (requirements-dev.txt)")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no chromium at {CHROMIUM}")
    # Playwright's sync API keeps an asyncio loop in this thread; the test's own ORM calls are plain
    # synchronous code between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()
            # ORM calls made while Playwright runs get their own connection (its greenlet has its own
            # context variables); close it, or PostgreSQL cannot drop the test database afterwards.
            connections.close_all()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    if os.environ.get("FAKEME_UPDATE_SCREENSHOTS"):
        target = REPO / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path


def _save_screenshot(page: Any, path: Path) -> None:
    """A viewport screenshot as a 256-colour PNG (dense UI pictures stay well under the size limit)."""
    raw = Image.open(io.BytesIO(page.screenshot(full_page=False)))
    small = raw.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, format="PNG", optimize=True)
    size = path.stat().st_size
    assert 0 < size < MAX_SCREENSHOT_BYTES, f"{path.name} is {size} bytes"
    with Image.open(path) as image:
        assert image.size == (DESKTOP["width"], DESKTOP["height"])


def _fits_phone(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/console/")
    assert "/console/login/" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")


def _current_post(page: Any) -> str:
    return page.locator("#queue-table tr.current a.mono").inner_text()


@pytest.fixture
def queue_items(platform: Platform, face_jpeg: bytes, staff: AbstractBaseUser) -> dict[str, ReviewItem]:
    staff.set_password(PASSWORD)
    staff.save()
    # Reports re-scan the post (on commit: the real detector), which gives the items their evidence.
    items = {
        "urgent": reported_post(platform, external_id="post-urgent", image=face_jpeg, probability=0.97,
                                category="non_consensual", reporters=("r1", "r2")),
        "middle": reported_post(platform, external_id="post-middle", image=face_jpeg, probability=0.5,
                                category="impersonation"),
        "mild": reported_post(platform, external_id="post-mild", image=face_jpeg, probability=0.05,
                              category="other"),
    }  # fmt: skip
    for item in items.values():
        item.refresh_from_db()
        assert item.scan is not None and item.scan.media.get().result, "the re-scan ran"
    return items


def test_moderator_flow_in_chromium(
    browser: Any, live_server: Any, queue_items: dict[str, ReviewItem], screenshot_dir: Path,
    staff: AbstractBaseUser, settings: Any, face_jpeg: bytes,
) -> None:  # fmt: skip
    # Scores follow the re-scans' real probabilities: put the note rule between the top two items.
    scores = sorted((item.score for item in queue_items.values()), reverse=True)
    assert queue_items["urgent"].score == scores[0] > scores[1]
    settings.FAKEME_REPORTS = {
        **settings.FAKEME_REPORTS,
        "DISMISS_NOTE_MIN_SCORE": (scores[0] + scores[1]) / 2,
    }
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base)

    # The queue, most urgent first; j/k move the highlighted row.
    rows = page.locator("#queue-table tbody tr[data-item]")
    assert rows.count() == 3
    order = [item.external_post_id for item in sorted(queue_items.values(), key=lambda i: -i.score)]
    assert _current_post(page) == order[0]
    page.keyboard.press("j")
    assert _current_post(page) == order[1]
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert _current_post(page) == order[1]
    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcut-help").is_visible()
    # Thumbnails in the queue, blurred like the media they show.
    thumb = page.locator("#queue-table td.thumb img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert "blur" in page.evaluate("img => getComputedStyle(img).filter", thumb.element_handle())
    _save_screenshot(page, screenshot_dir / "console-queue.png")

    # c claims the highlighted item; the page comes back with it still highlighted and marked mine.
    target = ReviewItem.objects.get(external_post_id=order[1])
    with page.expect_navigation():
        page.keyboard.press("c")
    assert f"You claimed post {order[1]}." in page.locator(".messages").inner_text()
    assert _current_post(page) == order[1]
    assert page.locator("#queue-table tr.current.is-mine").count() == 1
    target.refresh_from_db()
    assert target.assignee_id == staff.pk

    # f confirms it.
    with page.expect_navigation():
        page.keyboard.press("f")
    assert f"Confirmed as a deepfake: post {order[1]}." in page.locator(".messages").inner_text()
    target.refresh_from_db()
    assert target.status == "resolved" and target.decision == "confirmed" and target.decided_by_id == staff.pk
    assert rows.count() == 2

    # d on a high-score item opens it with the note focused; d with an empty note only asks for one.
    urgent = queue_items["urgent"]
    assert _current_post(page) == urgent.external_post_id  # the confirmed row left; back to the top
    with page.expect_navigation():
        page.keyboard.press("d")
    assert page.url.endswith(f"/console/items/{urgent.pk}/#note")
    assert page.evaluate("document.activeElement.name") == "note"
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    assert page.locator("#note-hint").is_visible()
    assert page.evaluate("document.activeElement.name") == "note"
    page.keyboard.type("Self-portrait of the reporter's friend; checked with the author.")
    page.keyboard.press("Escape")
    with page.expect_navigation():
        page.keyboard.press("d")
    assert f"Dismissed: post {urgent.external_post_id}." in page.locator(".messages").inner_text()
    urgent.refresh_from_db()
    assert urgent.decision == "dismissed" and "checked with the author" in urgent.decision_note

    # The item page of the remaining one: evidence with the face box and the model's heatmap.
    mild = queue_items["mild"]
    page.goto(f"{base}/console/items/{mild.pk}/")
    # Media are blurred until revealed; one click unblurs in place and is in the audit log.
    card = page.locator("section.card.evidence").first
    assert "veiled" in (card.get_attribute("class") or "")
    picture = card.locator(".stage img").first
    assert "blur" in page.evaluate("img => getComputedStyle(img).filter", picture.element_handle())
    card.locator("form.reveal button").click()
    page.wait_for_function("el => !el.classList.contains('veiled')", arg=card.element_handle())
    assert page.evaluate("img => getComputedStyle(img).filter", picture.element_handle()) == "none"
    assert AuditEntry.objects.filter(action="media.reveal", actor=staff).count() == 1
    heatmap = page.locator("img.heatmap").first
    heatmap.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 224", arg=heatmap.element_handle())
    assert page.locator(".facebox").count() >= 1
    assert page.locator("#report-list li").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    _save_screenshot(page, screenshot_dir / "console-item.png")

    # The audit page shows the keyboard decisions.
    page.goto(f"{base}/console/audit/?action=review.decide")
    audit = page.locator("#audit-table").inner_text()
    assert f"alice confirmed the reports on post {order[1]}" in audit
    assert f"alice dismissed the reports on post {urgent.external_post_id}" in audit
    assert AuditEntry.objects.filter(action="review.decide", actor=staff).count() == 2

    # x selects the highlighted row for a bulk action; the bulk dismissal is one audit group.
    page.goto(f"{base}/console/")
    assert _current_post(page) == mild.external_post_id
    page.keyboard.press("x")
    assert page.locator("#bulk-count").inner_text() == "1"
    with page.expect_navigation():
        page.click("#bulk-form button[value=dismissed]")
    assert "Dismissed: 1 item(s) in one bulk action" in page.locator(".messages").inner_text()
    mild.refresh_from_db()
    group = AuditEntry.objects.get(action="review.bulk_decide").group_id
    assert AuditEntry.objects.get(action="review.decide", target_id=str(mild.pk)).group_id == group

    # The dashboard's charts render (inline SVG, laid out at a real size).
    page.goto(f"{base}/console/dashboard/")
    chart = page.locator("svg.chart-scans")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 100
    assert page.locator("svg.chart-scans rect.bar").count() >= 1
    assert page.locator("#tile-decisions").inner_text() == "3"
    _save_screenshot(page, screenshot_dir / "console-dashboard.png")
    assert errors == [], errors

    # A scan in the uncertain band waits in the queue before anyone reports it.
    auto = scanned_post(
        mild.platform, external_id="post-unsure", image=face_jpeg, probability=0.6, verdict="uncertain"
    )
    page.goto(f"{base}/console/")
    row = page.locator("#queue-table tbody tr", has_text="post-unsure")
    assert row.count() == 1
    assert "Uncertain" in row.inner_text() and "Model uncertain" in row.inner_text()
    assert ReviewItem.objects.get(scan=auto).category == "model_uncertain"

    # The manifest panel: what a file's Content Credentials say, on the item page.
    manifest = {
        "present": True, "state": "trusted", "signer": "Studio generator", "issuer": "Studio CA",
        "claim_generator": "Studio 4.1", "signed_at": None, "ingredients": 0, "ai_generated": True,
        "tampered": False, "failures": [],
        "actions": [{"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}],
    }  # fmt: skip
    ScanMedia.objects.filter(scan_id=mild.scan_id).update(credentials=manifest)
    page.goto(f"{base}/console/items/{mild.pk}/")
    panel = page.locator("[data-credentials=trusted]").first
    assert panel.is_visible() and "declares AI-generated" in panel.inner_text()

    # Every page fits a phone's width.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    _login(small, base)
    scan_id = mild.scan_id
    for path in (
        "/console/", f"/console/items/{mild.pk}/", f"/console/items/{urgent.pk}/", "/console/scans/",
        f"/console/scans/{scan_id}/", "/console/dashboard/", "/console/audit/", "/console/tools/watermark/",
    ):  # fmt: skip
        small.goto(f"{base}{path}")
        small.wait_for_load_state("networkidle")  # pictures in: they take their real size
        _fits_phone(small)
        decide = small.locator("button[name=decision][value=dismissed]")
        if path.startswith("/console/items/") and decide.count():
            # the decision comes before the evidence: no 1,400 px of scrolling to reach it
            top = small.evaluate(
                "b => b.getBoundingClientRect().top + window.scrollY", decide.element_handle()
            )
            assert top < 1400, f"{path}: the decision buttons start {top:.0f} px down on a phone"
    # The queue's key columns are on screen at phone width, not behind a sideways scroll.
    small.goto(f"{base}/console/")
    table = small.evaluate("() => document.querySelector('#queue-table').getBoundingClientRect().right")
    assert table <= PHONE["width"], f"the queue table is {table:.0f} px wide on a 390 px phone"
    phone.close()
    context.close()
