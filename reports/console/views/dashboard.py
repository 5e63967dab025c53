"""Dashboard: scans, fake rate, reports, time to decision, throughput and the model in use."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from reports.console.dashboard import PERIODS, dashboard_build, human_duration
from reports.console.pages import render_page


def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in PERIODS:
        days = 30
    board = dashboard_build(days=days)
    context = {
        "board": board,
        "days": days,
        "periods": PERIODS,
        "median_decision": human_duration(board.median_decision_s),
    }
    return render_page(request, "dashboard", context)
