"""The watermark tool: upload an image or video, see whether it carries FakeME's mark."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from moderation.core.errors import ApplicationError
from reports.console.access import application_error_message
from reports.console.forms import WatermarkUploadForm
from reports.console.pages import render_page
from reports.console.watermark_tool import watermark_inspect


def watermark_check(request: HttpRequest) -> HttpResponse:
    result, error, status = None, "", 200
    if request.method == "POST":
        form = WatermarkUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = watermark_inspect(upload=form.cleaned_data["media"])
            except ApplicationError as exc:
                error, status = application_error_message(exc), exc.status
        else:
            status = 400
    else:
        form = WatermarkUploadForm()
    context = {"form": form, "result": result, "error": error}
    return render_page(request, "watermark", context, status=status)
