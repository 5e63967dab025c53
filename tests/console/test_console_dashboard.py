"""The dashboard's numbers from real rows (scans per day, fake rate, reports, median time to decision,
throughput per moderator, models) and its server-rendered SVG charts; the chart helpers themselves."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moderation.core.models import Platform
from moderation.scans.models import Scan
from reports.console.charts import Series, bar_chart, line_chart, nice_max, nice_step, tick_count
from reports.models import ReviewItem
from reports.services.review_decisions import review_decide
from tests.support.reports import reported_post

pytestmark = pytest.mark.django_db


def _scan(platform: Platform, verdict: str, days_ago: int, version: str = "1.0.0") -> Scan:
    scan = Scan.objects.create(
        platform=platform, mode="sync", status="completed", verdict=verdict, model_name="fakeme-effnetv2s",
        model_version=version, completed_at=timezone.now(),
    )  # fmt: skip
    Scan.objects.filter(pk=scan.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    return scan


def _tile(body: str, name: str) -> str:
    match = re.search(rf'id="tile-{name}">(.*?)</span>', body, re.S)
    assert match, name
    return re.sub(r"\s+", " ", match.group(1)).strip()


@pytest.fixture
def activity(platform: Platform, face_jpeg: bytes, staff: Any, other_staff: Any) -> None:
    for verdict, days in (("fake", 0), ("fake", 0), ("real", 0), ("not_applicable", 0), ("real", 2)):
        _scan(platform, verdict, days)
    _scan(platform, "fake", 40, version="0.9.0")  # outside the 30-day window
    now = timezone.now()
    for post, moderator, hours in (("a", staff, 2), ("b", staff, 4), ("c", other_staff, 1)):
        item = reported_post(platform, external_id=f"dash-{post}", image=face_jpeg, probability=0.2)
        review_decide(item_id=item.pk, user=moderator, decision="dismissed", expected_version=item.version)
        ReviewItem.objects.filter(pk=item.pk).update(
            created_at=now - dt.timedelta(hours=hours), decided_at=now
        )
    open_item = reported_post(platform, external_id="dash-open", image=face_jpeg, probability=0.9)
    assert open_item.status == "open"


def test_dashboard_numbers(staff_client: Client, activity: None) -> None:
    response = staff_client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    # Each of the 4 reported posts has its completed scan (verdict real) and its queued re-scan (no
    # verdict yet), besides the 5 scans above: 13 scans, 2 fakes among 8 with a face.
    assert _tile(body, "scans") == "13"
    assert _tile(body, "fake-rate") == "25.0 %"
    assert _tile(body, "reports") == "4"
    assert _tile(body, "decisions") == "3"
    assert _tile(body, "median") == "2.0 h"  # of 1 h, 2 h and 4 h
    with open(_card_path()) as fh:
        card = json.load(fh)
    assert card["version"] in _tile(body, "model")
    throughput = body[body.index("Moderator throughput") :]
    rows = re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td>", throughput)
    assert rows == [("alice", "2"), ("bob", "1")]
    assert "0.9.0" not in body  # the 40-day-old model version is outside the period
    week = staff_client.get(reverse("console:dashboard"), {"days": "7"}).content.decode()
    assert _tile(week, "scans") == "13"


def _card_path() -> str:
    from django.conf import settings

    from detection.model import card_path_for

    return str(card_path_for(settings.FAKEME_DETECTOR["WEIGHTS"][0]))


def test_dashboard_charts_are_inline_svg_with_the_counts(staff_client: Client, activity: None) -> None:
    body = staff_client.get(reverse("console:dashboard")).content.decode()
    scans_chart = re.search(r'<svg class="chart chart-scans".*?</svg>', body, re.S)
    assert scans_chart
    today = timezone.localdate()
    bars = dict(re.findall(r"<title>(\d\d-\d\d: [a-z ]+) (\d+)</title>", scans_chart.group(0)))
    assert bars[f"{today:%m-%d}: fake"] == "2"
    assert bars[f"{today:%m-%d}: real"] == "5"
    assert bars[f"{today:%m-%d}: no face"] == "1"
    assert bars[f"{today - dt.timedelta(days=2):%m-%d}: real"] == "1"
    for name in ("chart-fake-rate", "chart-reports", "chart-decisions", "chart-throughput"):
        assert f'<svg class="chart {name}"' in body, name
    assert '<script src="http' not in body and "cdn" not in body.lower()


def test_unknown_period_falls_back_to_30_days(staff_client: Client) -> None:
    body = staff_client.get(reverse("console:dashboard"), {"days": "abc"}).content.decode()
    assert '<a href="?days=30" aria-current="page">' in body


# -- the chart helpers ----------------------------------------------------------------------------
def test_axis_helpers() -> None:
    assert nice_max(0) == 1.0
    assert nice_max(0.37) == 0.5
    assert nice_max(4) == 5 and nice_max(4, integer=True) == 5
    assert nice_max(2.2, integer=True) == 5 and nice_max(2.2) == 2.5
    assert nice_max(130) == 200
    assert tick_count(5, integer=True) == 5 and tick_count(10, integer=True) == 5
    assert tick_count(20, integer=True) == 4 and tick_count(1, integer=True) == 1
    assert nice_step(11.5) == 2 and nice_step(0.9) == 0.2


def test_bar_chart_escapes_labels_and_stacks() -> None:
    svg = bar_chart(
        ["<b>x</b>", "y"],
        [Series("fake", [2, 0], "#c00"), Series("real & more", [1, 3], "#0c0")],
        title='Say "hi"',
    )
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert "real &amp; more" in svg and 'aria-label="Say &quot;hi&quot;"' in svg
    assert svg.count('class="bar"') == 3  # a zero value draws no bar
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[0] == pytest.approx(2 * heights[1])  # fake 2 vs real 1 in the first stack


def test_line_chart_breaks_at_missing_values_and_shades_them() -> None:
    svg = line_chart(
        [0, 1, 2, 3, 4],
        [Series("p", [0.2, 0.4, None, 0.9, 0.8], "#00f")],
        title="t",
        y_range=(0.0, 1.0),
        threshold=0.5,
        shade=[False, False, True, False, False],
        shade_label="no face",
        point_attrs=lambda i: f'data-seek="{i}"',
    )
    assert svg.count("<polyline") == 2  # the gap splits the line in two
    assert svg.count('class="point"') == 4 and 'data-seek="3"' in svg and 'data-seek="2"' not in svg
    assert svg.count('class="shade"') == 1 and 'class="threshold"' in svg and "no face" in svg
