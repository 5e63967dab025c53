"""Blurred media: reveal one (audited), and the moderator's own blur setting."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from moderation.core.errors import ApplicationError
from moderation.scans.models import ScanMedia
from reports.console.access import action_view, back_url
from reports.console.selectors import console_scan_get
from reports.services.media_veil import media_reveal, moderator_blur_set


def _scan_url(*, scan_id: str, index: int | None = None) -> str:
    return reverse("console:scan", args=[scan_id])


@action_view(_scan_url)
def reveal(request: HttpRequest, scan_id: str, index: int) -> HttpResponse:
    scan = console_scan_get(scan_id=scan_id)
    try:
        media_reveal(user=request.user, session=request.session, scan=scan, index=index)
    except ScanMedia.DoesNotExist as exc:
        raise ApplicationError("not_found", f"The scan has no media {index}.", status=404) from exc
    if request.headers.get("X-Requested-With") == "fetch":  # console.js: unblur in place
        return HttpResponse(status=204)
    return redirect(back_url(request, _scan_url(scan_id=scan_id)) + f"#media-{index}")


def blur_setting(request: HttpRequest) -> HttpResponse:
    blur = request.POST.get("blur") == "on"
    moderator_blur_set(user=request.user, blur=blur)
    messages.success(
        request, "Media are blurred until you reveal them." if blur else "Media are shown unblurred."
    )
    return redirect(back_url(request, reverse("console:queue")))
