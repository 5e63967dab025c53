"""The audit log: filterable, paginated, exportable as CSV."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from moderation.core.audit import audit_csv_lines
from moderation.core.errors import ApplicationError
from reports.console.access import error_page
from reports.console.forms import AuditFilterForm
from reports.console.pages import render_page
from reports.selectors import audit_list

PAGE_SIZE = 100


def _filters(request: HttpRequest) -> tuple[AuditFilterForm, dict[str, Any] | None]:
    form = AuditFilterForm(request.GET or None)
    if not request.GET:
        return form, {}
    if not form.is_valid():
        return form, None
    return form, {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


def audit(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    error = ""
    entries: Any = []
    if filters is not None:
        try:
            entries = audit_list(filters=filters)
        except ApplicationError as exc:
            error = exc.message
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "audit", {"form": form, "page": page, "error": error})


def audit_csv(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return error_page(request, "Export failed", "Fix the audit filters first.", status=400)
    try:
        entries = audit_list(filters=filters)
    except ApplicationError as exc:
        return error_page(request, "Export failed", exc.message, status=exc.status)
    response = StreamingHttpResponse(audit_csv_lines(entries), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="fakeme-audit-{stamp}.csv"'
    return response
