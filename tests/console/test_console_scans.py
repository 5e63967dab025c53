"""The scans archive: search filters, constant query count, CSV export, and the evidence view of real
scans (face boxes, heatmaps from the real model, video timeline and frame thumbnails, deleted media)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from moderation.core.media import media_read
from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from moderation.scans.submission import scan_submit
from tests.support.console import submit_image
from tests.support.scans import PlatformFactory, upload

pytestmark = pytest.mark.django_db

SHA_A = "a" * 64
PDQ_B = "b" * 64


def _scan(platform: Platform, *, external_id: str, verdict: str, probability: float | None, days_ago: int = 0,
          sha256: str = "", pdq: str = "", media: int = 1) -> Scan:  # fmt: skip
    """A completed scan row with ``media`` media rows (no detector: the archive only reads rows)."""
    scan = Scan.objects.create(
        platform=platform, external_id=external_id, mode=Scan.Mode.SYNC, status=Scan.Status.COMPLETED,
        verdict=verdict, probability=probability, decided_by="model", model_name="m", model_version="9.9.9",
        threshold=0.5,
    )  # fmt: skip
    if days_ago:
        Scan.objects.filter(pk=scan.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    for i in range(media):
        ScanMedia.objects.create(
            scan=scan, index=i, kind="image", format="jpeg", size_bytes=10,
            sha256=sha256 if i == 0 and sha256 else f"{i:064x}", pdq=pdq if i == 0 else "",
            result={"faces": [], "width": 10, "height": 10},
        )  # fmt: skip
    return scan


def _ids(response: Any) -> list[str]:
    return re.findall(r'data-href="/console/scans/([0-9a-f-]{36})/"', response.content.decode())


@pytest.fixture
def archive(platform: Platform) -> dict[str, Scan]:
    other = PlatformFactory(name="other-platform")
    return {
        "fake": _scan(platform, external_id="p-1", verdict="fake", probability=0.91, sha256=SHA_A),
        "real": _scan(platform, external_id="p-2", verdict="real", probability=0.12, days_ago=3),
        "none": _scan(platform, external_id="p-3", verdict="not_applicable", probability=None, days_ago=10),
        "other": _scan(other, external_id="p-1", verdict="real", probability=0.45, pdq=PDQ_B),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"fake", "real", "none", "other"}),
        ({"verdict": "fake"}, {"fake"}),
        ({"external_id": "p-1"}, {"fake", "other"}),
        ({"score_min": "0.4", "score_max": "0.95"}, {"fake", "other"}),
        ({"score_max": "0.2"}, {"real"}),
        ({"media_hash": SHA_A}, {"fake"}),
        ({"media_hash": SHA_A[:12].upper()}, {"fake"}),
        ({"media_hash": PDQ_B}, {"other"}),
        ({"date_from": "{d4}", "date_to": "{d2}"}, {"real"}),
        ({"date_to": "{d5}"}, {"none"}),
    ],
)
def test_archive_filters(
    staff_client: Client, archive: dict[str, Scan], query: dict[str, str], expected: set[str]
) -> None:
    today = timezone.localdate()
    days = {f"d{n}": (today - dt.timedelta(days=n)).isoformat() for n in range(11)}
    params = {k: v.format(**days) for k, v in query.items()}
    response = staff_client.get(reverse("console:scans"), params)
    assert response.status_code == 200
    assert set(_ids(response)) == {str(archive[name].pk) for name in expected}


def test_archive_filters_by_platform(staff_client: Client, archive: dict[str, Scan]) -> None:
    platform = archive["other"].platform
    response = staff_client.get(reverse("console:scans"), {"platform": str(platform.pk)})
    assert _ids(response) == [str(archive["other"].pk)]


def test_bad_filters_are_messages_not_crashes(staff_client: Client, archive: dict[str, Scan]) -> None:
    response = staff_client.get(
        reverse("console:scans"),
        {"score_min": "2", "media_hash": "xyz", "date_from": "2026-02-10", "date_to": "2026-02-01"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Fix the highlighted filters" in body
    assert "A media hash is 8 to 64 hexadecimal characters." in body
    assert "The end date is before the start date." in body
    assert _ids(response) == []
    csv_response = staff_client.get(reverse("console:scans-csv"), {"score_min": "2"})
    assert csv_response.status_code == 400 and b"Fix the search filters first" in csv_response.content


def test_archive_costs_the_same_queries_for_3_or_30_scans(staff_client: Client, platform: Platform) -> None:
    for i in range(3):
        _scan(platform, external_id=f"q-{i}", verdict="real", probability=0.2, media=2)
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(reverse("console:scans")).status_code == 200
    for i in range(27):
        _scan(platform, external_id=f"r-{i}", verdict="fake", probability=0.8, media=2)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(reverse("console:scans"))
    assert len(_ids(response)) == 30
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"] for q in large]


def test_archive_paginates(staff_client: Client, platform: Platform) -> None:
    for i in range(55):
        _scan(platform, external_id=f"page-{i}", verdict="real", probability=0.1)
    first = staff_client.get(reverse("console:scans"))
    second = staff_client.get(reverse("console:scans"), {"page": "2"})
    assert len(_ids(first)) == 50 and len(_ids(second)) == 5
    assert "Page 1 of 2" in first.content.decode() and "55 in all" in first.content.decode()
    assert not set(_ids(first)) & set(_ids(second))


def test_csv_export(staff_client: Client, archive: dict[str, Scan], platform: Platform) -> None:
    _scan(platform, external_id='=HYPERLINK("http://evil")', verdict="real", probability=0.3)
    response = staff_client.get(reverse("console:scans-csv"), {"platform": str(platform.pk)})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="fakeme-scans-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4  # the other platform's scan is filtered out
    by_post = {r["external_id"]: r for r in rows}
    fake = by_post["p-1"]
    assert fake["scan_id"] == str(archive["fake"].pk) and fake["verdict"] == "fake"
    assert fake["probability"] == "0.91" and fake["media_sha256"] == SHA_A
    assert fake["platform"] == platform.name and fake["model_version"] == "9.9.9"
    assert '\'=HYPERLINK("http://evil")' in by_post  # a formula is neutralised, not run


HOSTILE_IDS = [
    'x;=HYPERLINK("http://evil","a")',  # a formula once the file is split at ';'
    '\uff1dHYPERLINK("http://evil")',  # full-width equals sign
    "\t=1+1",
    "\r@SUM(A1)",
    " +cmd|' /C calc'!A0",
    "a,-2+3",
    "x|=1",
]


def _formula_parts(line: str) -> list[str]:
    """Every piece of a raw CSV line, split at any separator a spreadsheet may use, that a spreadsheet
    would run as a formula (leading spaces and quotes of the cell ignored, full-width forms folded;
    plain numbers such as -0.5 are data)."""
    pieces = [unicodedata.normalize("NFKC", p.strip(' "\r')) for p in re.split(r"[,;|\t]", line)]
    return [p for p in pieces if p[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"-?[0-9.]+", p)]


def test_csv_export_neutralises_formulas_as_a_class(staff_client: Client, platform: Platform) -> None:
    for external_id in HOSTILE_IDS:
        _scan(platform, external_id=external_id, verdict="real", probability=0.3)
    _scan(platform, external_id="ok", verdict="real", probability=-0.5)  # a number stays a number
    response = staff_client.get(reverse("console:scans-csv"), {"platform": str(platform.pk)})
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(HOSTILE_IDS) + 1
    for line in text.splitlines()[1:]:
        assert _formula_parts(line) == [], line
    assert {r["external_id"].replace("'", "") for r in rows} == {i.replace("'", "") for i in HOSTILE_IDS} | {
        "ok"
    }
    assert next(r for r in rows if r["external_id"] == "ok")["probability"] == "-0.5"


# -- evidence of real scans ---------------------------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable image"
    return image.shape[1], image.shape[0]


def test_image_evidence_with_boxes_and_heatmaps(staff_client: Client, face_scan: Scan) -> None:
    media = face_scan.media.get()
    faces = media.result["faces"]
    page = staff_client.get(reverse("console:scan", args=[face_scan.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    boxes = re.findall(r'class="facebox[^"]*" style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%', body)
    assert len(boxes) == len(faces) >= 1
    x1, y1, x2, _ = faces[0]["box"]
    assert float(boxes[0][0]) == pytest.approx(100 * x1 / media.result["width"], abs=0.01)
    assert float(boxes[0][2]) == pytest.approx(100 * (x2 - x1) / media.result["width"], abs=0.01)
    assert f"{faces[0]['probability']:.3f}" in body
    assert "sha256 " + media.sha256 in body

    stored = staff_client.get(reverse("console:media-file", args=[face_scan.pk, 0]))
    assert stored.status_code == 200 and stored["Content-Type"] == "image/jpeg"
    assert b"".join(stored.streaming_content) == media_read(media.storage_key)

    heatmap = staff_client.get(reverse("console:face-heatmap", args=[face_scan.pk, 0, 0]))
    assert heatmap.status_code == 200 and heatmap["Content-Type"] == "image/png"
    assert _png_size(heatmap.content) == (224, 224)
    missing = staff_client.get(reverse("console:face-heatmap", args=[face_scan.pk, 0, 9]))
    assert missing.status_code == 404 and b"There is no face 9 in this media." in missing.content


def test_heatmap_shows_the_models_boundary_not_a_copy_of_the_face(
    staff_client: Client, face_scan: Scan
) -> None:
    """The overlay differs from the plain crop where the model's boundary map is warm (JET colours)."""
    from detection.faces import crop_face
    from detection.imaging import load_image

    media = face_scan.media.get()
    png = staff_client.get(reverse("console:face-heatmap", args=[face_scan.pk, 0, 0])).content
    overlay = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    plain = crop_face(load_image(media_read(media.storage_key)), tuple(media.result["faces"][0]["box"]), 224)
    difference = np.abs(overlay.astype(int) - plain.astype(int)).mean()
    assert difference > 2.0  # the colour map is blended in everywhere (35 % weight at zero heat)


def test_deleted_media_keeps_its_scores_and_says_so(staff_client: Client, face_scan: Scan) -> None:
    media = face_scan.media.get()
    from moderation.core.media import media_delete

    media_delete([media.storage_key])
    ScanMedia.objects.filter(pk=media.pk).update(storage_key="", deleted_at=timezone.now())
    page = staff_client.get(reverse("console:scan", args=[face_scan.pk]))
    assert page.status_code == 200
    assert b"The file was deleted" in page.content
    assert f"{media.probability:.3f}".encode() in page.content
    for url in (
        reverse("console:media-file", args=[face_scan.pk, 0]),
        reverse("console:face-heatmap", args=[face_scan.pk, 0, 0]),
    ):
        gone = staff_client.get(url)
        assert gone.status_code == 410 and b"has been deleted (retention period)" in gone.content


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


def test_video_evidence_timeline_thumbnails_and_heatmaps(staff_client: Client, video_scan: Scan) -> None:
    media = video_scan.media.get()
    frames = media.result["frames"]
    scored = [f for f in frames if f["probability"] is not None]
    assert len(frames) == 24 and scored
    body = staff_client.get(reverse("console:scan", args=[video_scan.pk])).content.decode()

    timeline = re.search(r'<svg class="chart timeline".*?</svg>', body, re.S)
    assert timeline, "the per-frame timeline chart is rendered"
    assert len(re.findall(r'<circle class="point"', timeline.group(0))) == len(scored)
    assert 'class="threshold"' in timeline.group(0)
    seeks = [float(t) for t in re.findall(r'data-seek="([\d.]+)"', timeline.group(0))]
    assert seeks == pytest.approx([f["timestamp"] for f in scored], abs=1e-3)

    thumbs = re.findall(r"/console/scans/[0-9a-f-]+/media/0/frames/(\d+)\.jpg", body)
    best = sorted(scored, key=lambda f: (-f["probability"], f["timestamp"]))[:6]
    assert [int(t) for t in thumbs] == [f["index"] for f in best]
    thumb = staff_client.get(reverse("console:frame-thumb", args=[video_scan.pk, 0, best[0]["index"]]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert _png_size(thumb.content) == (320, 240)

    heatmap_url = reverse("console:face-heatmap", args=[video_scan.pk, 0, 0])
    assert f"{heatmap_url}?frame={best[0]['index']}" in body
    heatmap = staff_client.get(heatmap_url, {"frame": best[0]["index"]})
    assert heatmap.status_code == 200 and _png_size(heatmap.content) == (224, 224)
    no_frame = staff_client.get(heatmap_url)
    assert no_frame.status_code == 400 and b"Name the video frame" in no_frame.content
    unsampled = staff_client.get(reverse("console:frame-thumb", args=[video_scan.pk, 0, 1]))
    assert unsampled.status_code == 404 and b"was not among the sampled frames" in unsampled.content


def test_video_file_answers_byte_ranges_for_seeking(
    staff_client: Client, video_scan: Scan, face_video: Path
) -> None:
    url = reverse("console:media-file", args=[video_scan.pk, 0])
    data = face_video.read_bytes()
    size = len(data)
    whole = staff_client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    assert whole["Accept-Ranges"] == "bytes" and b"".join(whole.streaming_content) == data
    head = staff_client.get(url, HTTP_RANGE="bytes=0-99")
    assert head.status_code == 206 and head["Content-Range"] == f"bytes 0-99/{size}"
    assert head.content == data[:100]
    tail = staff_client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and tail.content == data[-10:]
    rest = staff_client.get(url, HTTP_RANGE=f"bytes={size - 5}-")
    assert rest.content == data[-5:] and rest["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"
    beyond = staff_client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"


def test_scan_page_shows_the_posts_history(
    staff_client: Client, platform: Platform, face_jpeg: bytes, no_face_jpeg: bytes
) -> None:
    first = submit_image(platform, no_face_jpeg, external_id="post-h")
    second = submit_image(platform, face_jpeg, external_id="post-h")
    submit_image(platform, face_jpeg, external_id="another-post")
    body = staff_client.get(reverse("console:scan", args=[second.pk])).content.decode()
    start = body.index('<ol class="history">')
    history = body[start : body.index("</ol>", start)]
    linked = re.findall(r'href="/console/scans/([0-9a-f-]{36})/"', history)
    assert linked == [str(second.pk), str(first.pk)]  # newest first, only this post's
