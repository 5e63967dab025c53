"""The review queue, the item page, and the moderator actions behind them (claim, decide, bulk).

The decisions, their buttons, bulk choices and messages come from ``reports.decisions``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from moderation.core.errors import ApplicationError
from reports.console.access import action_view, back_url, error_page
from reports.console.evidence import item_evidence, veil
from reports.console.forms import BulkDecisionForm, DecisionForm, QueueFilterForm, VersionForm
from reports.console.history import history_events
from reports.console.pages import render_page
from reports.console.selectors import console_scan_get
from reports.decisions import REPORT, SHORTCUTS, bulk_decisions, decision_get, decisions_for
from reports.models import ReviewItem
from reports.selectors import (
    review_item_get,
    review_item_history,
    review_item_media,
    review_item_reporters,
    review_queue,
)
from reports.services.priority import reporter_trust, review_score_breakdown
from reports.services.review_claims import review_claim, review_release
from reports.services.review_decisions import review_bulk_decide, review_decide

PAGE_SIZE = 50


def _queue_url(**_: Any) -> str:
    return reverse("console:queue")


def _item_url(*, item_id: Any, **_: Any) -> str:
    return reverse("console:item", args=[item_id])


def _note_min_score() -> float:
    return float(settings.FAKEME_REPORTS["DISMISS_NOTE_MIN_SCORE"])


def _note_required(item: ReviewItem, note_min: float) -> bool:
    """Whether one of the item's decisions needs a note at its score (a high-score dismissal)."""
    return item.score >= note_min and any(spec.note_from_high_score for spec in decisions_for(item.kind))


def _done(decision: str) -> str:
    spec = decision_get(decision)
    return spec.done if spec is not None else decision


# -- queue ------------------------------------------------------------------------------------
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
    items: Any
    try:
        items = review_queue(**filters)
    except ApplicationError as exc:
        error, items = exc.message, []
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    note_min = _note_min_score()
    rows = [
        {
            "item": item,
            "mine": item.assignee_id == request.user.pk,
            "note_required": _note_required(item, note_min),
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
        "bulk_decisions": [
            {"value": spec.value, "label": spec.bulk_label, "css": spec.buttons[REPORT].css}
            for spec in bulk_decisions()
        ],
        # a report row's keys (console.js): shortcut action -> the decision it sends
        "row_decisions": [
            (spec.buttons[REPORT].shortcut.action, spec.value) for spec in decisions_for(REPORT)
        ],
    }
    return render_page(request, "queue", context)


@action_view(_queue_url)
def bulk_decide(request: HttpRequest) -> HttpResponse:
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors))
        return redirect(back_url(request, _queue_url()))
    data = form.cleaned_data
    versions: dict[str, int] = data["items"]
    spec = decision_get(data["decision"])
    assert spec is not None  # the form's choices are the registry's bulk decisions
    outcome = review_bulk_decide(
        item_ids=list(versions),
        user=request.user,
        decision=spec.value,
        note=data["note"],
        expected_versions=versions,
        allow_bank=data["allow_bank"] and spec.bank_optional,
        takedown=data["takedown"] and spec.takedown,
    )
    if outcome.decided:
        count, group = len(outcome.decided), outcome.group_id
        messages.success(request, f"{spec.done}: {count} item(s) in one bulk action (audit group {group}).")
    for item_id, exc in outcome.failed.items():
        messages.error(request, f"Item {item_id[:8]}… was skipped: {exc.message}")
    return redirect(back_url(request, _queue_url()))


# -- item page --------------------------------------------------------------------------------
def _reports_with_accuracy(item: ReviewItem) -> list[dict[str, Any]]:
    """The item's reports, each with its reporter's track record on the platform (one query)."""
    minimum = settings.FAKEME_REPORTS["ACCURACY_MIN_DECIDED"]
    rows = []
    for report, stats in review_item_reporters(item=item):
        agreed, rejected = (stats.agreed, stats.rejected) if stats else (0, 0)
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


def _decision_buttons(item: ReviewItem) -> list[dict[str, str]]:
    """The item's decision buttons, in the keys' order; escalation is not offered twice."""
    buttons = [
        (spec, spec.buttons[item.kind])
        for spec in decisions_for(item.kind)
        if spec.resolves or item.status != ReviewItem.Status.ESCALATED
    ]
    buttons.sort(key=lambda pair: SHORTCUTS.index(pair[1].shortcut))
    return [
        {
            "value": spec.value,
            "label": button.label.format(hashtag=item.platform.fake_hashtag),
            "css": button.css,
            "action": button.shortcut.action,
            "key": button.shortcut.key,
        }
        for spec, button in buttons
    ]


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
        "note_required": _note_required(item, _note_min_score()),
        "note_min": _note_min_score(),
        "is_mine": item.assignee_id == request.user.pk,
        "decision_label": _done(item.decision) if item.decision else "",
        "decision_buttons": _decision_buttons(item),
        "bank_help": "; ".join(spec.bank_help for spec in decisions_for(item.kind) if spec.bank_help),
        "decision_options": {
            "takedown": any(spec.takedown for spec in decisions_for(item.kind)),
            "allow_bank": any(spec.bank_optional for spec in decisions_for(item.kind)),
        },
    }
    return render_page(request, "item", context)


def _version(request: HttpRequest) -> int:
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            "invalid", "The form did not say which version of the item you saw; reload the page."
        )
    return form.cleaned_data["version"]


@action_view(_item_url)
def item_claim(request: HttpRequest, item_id: str) -> HttpResponse:
    item = review_claim(item_id=item_id, user=request.user, expected_version=_version(request))
    messages.success(request, f"You claimed post {item.external_post_id}.")
    return redirect(back_url(request, _item_url(item_id=item_id)))


@action_view(_item_url)
def item_release(request: HttpRequest, item_id: str) -> HttpResponse:
    item = review_release(item_id=item_id, user=request.user, expected_version=_version(request))
    messages.success(request, f"Post {item.external_post_id} is back in the queue.")
    return redirect(back_url(request, _item_url(item_id=item_id)))


@action_view(_item_url)
def item_decide(request: HttpRequest, item_id: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("invalid", "The decision form was incomplete; reload the page and try again.")
    data = form.cleaned_data
    decision = data["decision"]
    spec = decision_get(decision)
    item = review_decide(
        item_id=item_id,
        user=request.user,
        decision=decision,
        expected_version=data["version"],
        note=data["note"],
        takedown=data["takedown"] and spec is not None and spec.takedown,
        allow_bank=data["allow_bank"] and spec is not None and spec.bank_optional,
        bank_media=data["bank_media"],
    )
    extras = []
    if item.takedown_requested:
        extras.append("takedown requested")
    if spec is not None and spec.bank_optional and item.allow_listed:
        extras.append("media added to the allow bank")
    suffix = f" ({', '.join(extras)})" if extras else ""
    messages.success(request, f"{_done(decision)}: post {item.external_post_id}{suffix}.")
    return redirect(back_url(request, _item_url(item_id=item_id)))
