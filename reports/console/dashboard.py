"""Dashboard numbers: scans per day, fake rate, reports per day, time to decision, throughput, models.

Reads only (selectors), grouped in the database by day in the current time zone; days without
activity are filled with zeros so the charts' x axes are continuous.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString

from detection.model import card_path_for
from reports.console.charts import Series, bar_chart, line_chart
from reports.console.selectors import (
    decision_days,
    decision_durations,
    decision_throughput,
    models_seen,
    report_days,
    scan_days,
)
from reports.models import ScanFeedback
from reports.services.feedback import feedback_events

FAKE_COLOUR, REAL_COLOUR, NA_COLOUR, LINE_COLOUR = "#c62828", "#2e7d32", "#9e9e9e", "#1f4e99"
UNCERTAIN_COLOUR = "#e0a100"  # the console's warning amber: seen by a person, not tagged
PERIODS = (7, 30, 90)


@dataclass
class Day:
    day: dt.date
    scans: int = 0
    fakes: int = 0
    uncertain: int = 0
    reals: int = 0
    not_applicable: int = 0
    reports: int = 0
    decisions: int = 0
    false_alarms: int = 0  # false positives said by platforms or found by moderators that day

    @property
    def judged(self) -> int:
        return self.fakes + self.uncertain + self.reals

    @property
    def fake_rate(self) -> float | None:
        """Fakes among scans with a face (``not_applicable`` says nothing about fakes)."""
        return self.fakes / self.judged if self.judged else None


@dataclass
class Dashboard:
    days: list[Day]
    since: dt.datetime
    scans_total: int = 0
    fakes_total: int = 0
    judged_total: int = 0
    reports_total: int = 0
    decisions_total: int = 0
    median_decision_s: float | None = None
    throughput: list[dict[str, Any]] = field(default_factory=list)
    models_seen: list[dict[str, Any]] = field(default_factory=list)
    models_configured: list[dict[str, Any]] = field(default_factory=list)
    false_alarms_total: int = 0
    feedback_by_model: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, SafeString] = field(default_factory=dict)

    @property
    def fake_rate(self) -> float | None:
        return self.fakes_total / self.judged_total if self.judged_total else None


def _local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def models_configured() -> list[dict[str, Any]]:
    """The model cards of ``DETECTOR_WEIGHTS`` (what new scans will use), read without loading the model."""
    out = []
    for path in settings.FAKEME_DETECTOR["WEIGHTS"]:
        try:
            card = json.loads(card_path_for(path).read_text())
            out.append({"file": path.name, "name": card.get("name", ""), "version": card.get("version", ""),
                        "threshold": card.get("threshold")})  # fmt: skip
        except (OSError, ValueError):
            out.append({"file": path.name, "name": "", "version": "", "threshold": None, "missing": True})
    return out


def _review_stats(board: Dashboard, by_day: dict[dt.date, Day]) -> None:
    """Reports per day (``Report.created_at``); decisions per day, the median time from an item's
    creation to its decision, and decisions per moderator (of items resolved in the period)."""
    for day, n in report_days(since=board.since).items():
        if day in by_day:
            by_day[day].reports = n
    for day, n in decision_days(since=board.since).items():
        if day in by_day:
            by_day[day].decisions = n
    board.median_decision_s = median(decision_durations(since=board.since))
    board.reports_total = sum(d.reports for d in board.days)
    board.decisions_total = sum(d.decisions for d in board.days)
    board.throughput = decision_throughput(since=board.since)


def _feedback_stats(board: Dashboard, by_day: dict[dt.date, Day], since: dt.datetime) -> None:
    """False alarms per day, and feedback per model version (platforms' and moderators' alike)."""
    per_model: dict[str, dict[str, Any]] = {}
    for event in feedback_events(since=since):
        row = per_model.setdefault(
            event.model_version or "—",
            {"model_version": event.model_version or "—", **dict.fromkeys(ScanFeedback.Kind.values, 0)},
        )
        row[event.kind] += 1
        if event.kind == ScanFeedback.Kind.FALSE_POSITIVE:
            board.false_alarms_total += 1
            day = by_day.get(_local_day(event.at))
            if day is not None:
                day.false_alarms += 1
    board.feedback_by_model = sorted(per_model.values(), key=lambda r: r["model_version"], reverse=True)


def dashboard_build(*, days: int = 30) -> Dashboard:
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    by_day = {first + dt.timedelta(days=i): Day(first + dt.timedelta(days=i)) for i in range(days)}
    for day, row in scan_days(since=since).items():
        if day in by_day:
            target = by_day[day]
            target.scans, target.fakes, target.uncertain = row["scans"], row["fakes"], row["uncertain"]
            target.reals, target.not_applicable = row["reals"], row["not_applicable"]
    board = Dashboard(days=list(by_day.values()), since=since)
    board.scans_total = sum(d.scans for d in board.days)
    board.fakes_total = sum(d.fakes for d in board.days)
    board.judged_total = sum(d.judged for d in board.days)
    board.models_seen = models_seen(since=since)
    board.models_configured = models_configured()
    _review_stats(board, by_day)
    _feedback_stats(board, by_day, since)
    board.charts = _charts(board)
    return board


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _charts(board: Dashboard) -> dict[str, SafeString]:
    labels = [f"{d.day:%m-%d}" for d in board.days]
    charts = {
        "scans": bar_chart(
            labels,
            [
                Series("fake", [d.fakes for d in board.days], FAKE_COLOUR),
                Series("uncertain", [d.uncertain for d in board.days], UNCERTAIN_COLOUR),
                Series("real", [d.reals for d in board.days], REAL_COLOUR),
                Series("no face", [d.not_applicable for d in board.days], NA_COLOUR),
            ],
            title="Scans per day by verdict",
            css_class="chart-scans",
        ),
        "fake_rate": line_chart(
            list(range(len(board.days))),
            [Series("fake rate", [d.fake_rate for d in board.days], FAKE_COLOUR)],
            title="Share of scans judged fake per day (scans with a face)",
            x_labels=labels,
            y_range=(0.0, 1.0),
            y_format=lambda v: f"{v:.0%}",
            css_class="chart-fake-rate",
        ),
        "false_alarms": bar_chart(
            labels,
            [Series("false alarms", [d.false_alarms for d in board.days], FAKE_COLOUR)],
            title="False alarms per day (platform feedback and dismissed reports on posts called fake)",
            css_class="chart-false-alarms",
        ),
        "reports": bar_chart(
            labels,
            [
                Series("reports", [d.reports for d in board.days], LINE_COLOUR),
            ],
            title="User reports per day",
            css_class="chart-reports",
        ),
        "decisions": bar_chart(
            labels,
            [Series("decisions", [d.decisions for d in board.days], "#6a1b9a")],
            title="Moderator decisions per day",
            css_class="chart-decisions",
        ),
    }
    if board.throughput:
        names = [row["moderator"] for row in board.throughput]
        charts["throughput"] = bar_chart(
            names,
            [Series("decisions", [row["decisions"] for row in board.throughput], "#6a1b9a")],
            title="Decisions per moderator in the period",
            css_class="chart-throughput",
        )
    return charts


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
