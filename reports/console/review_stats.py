"""The dashboard's review numbers, read from the reports backend's rows.

Reports per day (``Report.created_at``); decisions per day, the median time from an item's
creation to its decision, and decisions per moderator (``ReviewItem.decided_at``/``decided_by``
of items resolved in the period).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Count
from django.db.models.functions import TruncDate

from reports.models import Report, ReviewItem

if TYPE_CHECKING:
    from reports.console.dashboard import Dashboard, Day

THROUGHPUT_TOP = 12


def fill(board: Dashboard, by_day: dict[dt.date, Day]) -> None:
    from reports.console.dashboard import median

    since = board.since
    for row in (
        Report.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
    ):
        if row["day"] in by_day:
            by_day[row["day"]].reports = row["n"]
    decided = ReviewItem.objects.filter(decided_at__gte=since, status=ReviewItem.Status.RESOLVED)
    for row in decided.annotate(day=TruncDate("decided_at")).values("day").annotate(n=Count("id")):
        if row["day"] in by_day:
            by_day[row["day"]].decisions = row["n"]
    durations = [
        (decided_at - created_at).total_seconds()
        for created_at, decided_at in decided.values_list("created_at", "decided_at")
    ]
    board.median_decision_s = median(durations)
    board.reports_total = sum(d.reports for d in board.days)
    board.decisions_total = sum(d.decisions for d in board.days)
    rows = (
        decided.exclude(decided_by=None)
        .values("decided_by__username")
        .annotate(decisions=Count("id"))
        .order_by("-decisions", "decided_by__username")[:THROUGHPUT_TOP]
    )
    board.throughput = [{"moderator": r["decided_by__username"], "decisions": r["decisions"]} for r in rows]
