"""The review queue, the item page, and the moderator actions behind them (claim, decide, bulk)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from moderation.errors import ApplicationError
from reports.console.access import action_view, allow, back_url, error_page, staff_required
from reports.console.evidence import item_evidence, veil
from reports.console.forms import BulkDecisionForm, DecisionForm, QueueFilterForm, VersionForm
from reports.console.review_history import history_events
from reports.console.selectors import console_scan_get
from reports.models import ReporterStats, ReviewItem
from reports.selectors import review_item_get, review_item_history, review_item_media, review_queue
from reports.services.priority import reporter_trust, review_score_breakdown
from reports.services.review import review_bulk_decide, review_claim, review_decide, review_release

PAGE_SIZE = 50
Decision = ReviewItem.Decision
_PAST = {
    Decision.CONFIRMED: "Confirmed as a deepfake",
    Decision.DISMISSED: "Dismissed",
    Decision.ESCALATED: "Escalated",
    Decision.APPEAL_UPHELD: "Appeal upheld",
    Decision.APPEAL_DENIED: "Appeal denied",
}


def _queue_url(**_: Any) -> str:
    return reverse("console:queue")


def _item_url(*, item_id: Any, **_: Any) -> str:
    return reverse("console:item", args=[item_id])


def _note_min_score() -> float:
    return float(settings.FAKEME_REPORTS["DISMISS_NOTE_MIN_SCORE"])


# -- queue ------------------------------------------------------------------------------------
@allow("GET")
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    filters: dict[str, Any] = {
        "status": values.get("status") or "active",
        "kind": values.get("kind") or None,
        "platform": values.get("platform"),
        "category": values.get("category") or None,
        "order": values.get("order") or "-score",
    }
    assignee = values.get("assignee")
    if assignee == "me":
        filters["assignee"] = request.user
    elif assignee == "none":
        filters["assignee"] = "none"
    error = ""
    try:
        items = review_queue(**filters)
    except ApplicationError as exc:
        error, items = exc.message, ReviewItem.objects.none()
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    note_min = _note_min_score()
    rows = [
        {
            "item": item,
            "mine": item.assignee_id == request.user.pk,
            "note_required": item.kind == ReviewItem.Kind.REPORT and item.score >= note_min,
            # An item may have no scan yet (reported before any scan, re-scan still queued or failed).
            "threshold": item.scan.threshold if item.scan is not None else None,
        }
        for item in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "error": error,
        "note_min": note_min,
        "bulk_max": settings.FAKEME_REPORTS["BULK_MAX_ITEMS"],
        "nav": "queue",
    }
    return render(request, "console/queue.html", context)


@allow("POST")
@staff_required
@action_view(_queue_url)
def bulk_decide(request: HttpRequest) -> HttpResponse:
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors))
        return redirect(back_url(request, _queue_url()))
    data = form.cleaned_data
    versions: dict[str, int] = data["items"]
    outcome = review_bulk_decide(
        item_ids=list(versions),
        user=request.user,
        decision=data["decision"],
        note=data["note"],
        expected_versions=versions,
        allow_bank=data["allow_bank"] and data["decision"] == Decision.DISMISSED,
        takedown=data["takedown"] and data["decision"] == Decision.CONFIRMED,
    )
    verb = _PAST[Decision(data["decision"])]
    if outcome.decided:
        messages.success(
            request,
            f"{verb}: {len(outcome.decided)} item(s) in one bulk action (audit group {outcome.group_id}).",
        )
    for item_id, exc in outcome.failed.items():
        messages.error(request, f"Item {item_id[:8]}… was skipped: {exc.message}")
    return redirect(back_url(request, _queue_url()))


# -- item page --------------------------------------------------------------------------------
def _reports_with_accuracy(item: ReviewItem) -> list[dict[str, Any]]:
    """The item's reports, each with its reporter's track record on the platform (one query)."""
    reports = list(item.reports.all())
    stats = {
        s.reporter_id: s
        for s in ReporterStats.objects.filter(
            platform_id=item.platform_id, reporter_id__in={r.reporter_id for r in reports}
        )
    }
    minimum = settings.FAKEME_REPORTS["ACCURACY_MIN_DECIDED"]
    rows = []
    for report in reports:
        s = stats.get(report.reporter_id)
        agreed, rejected = (s.agreed, s.rejected) if s else (0, 0)
        decided = agreed + rejected
        rows.append(
            {
                "report": report,
                "agreed": agreed,
                "decided": decided,
                "accuracy": agreed / decided if decided else None,
                "trust": reporter_trust(agreed, rejected),
                "established": decided >= minimum,
            }
        )
    return rows


@allow("GET")
@staff_required
def item_detail(request: HttpRequest, item_id: str) -> HttpResponse:
    try:
        item = review_item_get(item_id=item_id)
    except ApplicationError as exc:
        return error_page(request, "Not available", exc.message, status=exc.status)
    scan = console_scan_get(scan_id=item.scan_id) if item.scan_id else None
    context = {
        "item": item,
        "scan": scan,
        # every distinct media sent for the post, whatever its scan's state: what a decision may bank
        "evidence": veil(
            item_evidence(review_item_media(item=item)), user=request.user, session=request.session, item=item
        ),
        "reports": _reports_with_accuracy(item),
        "breakdown": review_score_breakdown(item),
        "history": history_events(review_item_history(item=item)),
        "note_required": item.kind == ReviewItem.Kind.REPORT and item.score >= _note_min_score(),
        "note_min": _note_min_score(),
        "is_mine": item.assignee_id == request.user.pk,
        "decision_label": _PAST.get(Decision(item.decision)) if item.decision else "",
        "nav": "queue",
    }
    return render(request, "console/item.html", context)


def _version(request: HttpRequest) -> int:
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            "invalid", "The form did not say which version of the item you saw; reload the page."
        )
    return form.cleaned_data["version"]


@allow("POST")
@staff_required
@action_view(_item_url)
def item_claim(request: HttpRequest, item_id: str) -> HttpResponse:
    item = review_claim(item_id=item_id, user=request.user, expected_version=_version(request))
    messages.success(request, f"You claimed post {item.external_post_id}.")
    return redirect(back_url(request, _item_url(item_id=item_id)))


@allow("POST")
@staff_required
@action_view(_item_url)
def item_release(request: HttpRequest, item_id: str) -> HttpResponse:
    item = review_release(item_id=item_id, user=request.user, expected_version=_version(request))
    messages.success(request, f"Post {item.external_post_id} is back in the queue.")
    return redirect(back_url(request, _item_url(item_id=item_id)))


@allow("POST")
@staff_required
@action_view(_item_url)
def item_decide(request: HttpRequest, item_id: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("invalid", "The decision form was incomplete; reload the page and try again.")
    data = form.cleaned_data
    decision = data["decision"]
    item = review_decide(
        item_id=item_id,
        user=request.user,
        decision=decision,
        expected_version=data["version"],
        note=data["note"],
        takedown=data["takedown"] and decision == Decision.CONFIRMED,
        allow_bank=data["allow_bank"] and decision == Decision.DISMISSED,
        bank_media=data["bank_media"],
    )
    label = _PAST.get(Decision(decision), decision) if decision in Decision.values else decision
    extras = []
    if item.takedown_requested:
        extras.append("takedown requested")
    if decision == Decision.DISMISSED and item.allow_listed:
        extras.append("media added to the allow bank")
    suffix = f" ({', '.join(extras)})" if extras else ""
    messages.success(request, f"{label}: post {item.external_post_id}{suffix}.")
    return redirect(back_url(request, _item_url(item_id=item_id)))
