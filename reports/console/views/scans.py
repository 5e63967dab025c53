"""Scans archive: every scan, searchable, with the evidence view, CSV export and the media behind it."""

from __future__ import annotations

import re
from typing import Any

import cv2
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse

from detection.errors import DetectionError
from detection.imaging import load_image
from moderation.core.errors import ApplicationError
from moderation.core.media import media_read
from moderation.scans.models import Scan, ScanMedia
from reports.console import evidence_images
from reports.console.access import error_page, media_error
from reports.console.csv_export import csv_response
from reports.console.evidence import scan_evidence, veil
from reports.console.forms import ScanFilterForm
from reports.console.history import post_history
from reports.console.pages import render_page
from reports.console.selectors import console_scan_get, console_scan_list, console_scan_media_get
from reports.selectors import scan_feedback_list

PAGE_SIZE = 50
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_RANGE_BYTES = 8 * 1024 * 1024  # a player asks again for the rest
# Served as stored; other image formats (TIFF, HEIF) are converted to PNG for the browser.
BROWSER_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
}


def _filters(request: HttpRequest) -> tuple[ScanFilterForm, dict[str, Any] | None]:
    """The bound filter form and its clean values (None when the form has errors)."""
    form = ScanFilterForm(request.GET or None)
    if not request.GET:
        return form, {}
    return form, (form.cleaned_data if form.is_valid() else None)


def _error_response(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_page(request, "Not available", exc.message, status=exc.status)


def scan_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    scans: Any = console_scan_list(filters=filters) if filters is not None else []
    page = Paginator(scans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "scans", {"form": form, "page": page})


def scan_csv(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return error_page(
            request, "Export failed", "Fix the search filters first: " + _form_errors(form), status=400
        )
    header = [
        "scan_id", "created_at", "platform", "external_id", "author_id", "status", "verdict", "probability",
        "threshold", "decided_by", "reasons", "tagged", "model_name", "model_version", "media_kinds",
        "media_sha256", "watermark_found", "known_matches", "completed_at",
    ]  # fmt: skip

    def row(scan: Scan) -> list[Any]:
        media = list(scan.media.all())
        return [
            scan.id, scan.created_at, scan.platform.name, scan.external_id, scan.author_id, scan.status,
            scan.verdict, scan.probability, scan.threshold, scan.decided_by, scan.reasons, scan.tagged,
            scan.model_name, scan.model_version, [m.kind for m in media], [m.sha256 for m in media],
            bool(scan.watermark and scan.watermark.get("found")), len(scan.known_matches or []),
            scan.completed_at,
        ]  # fmt: skip

    rows = console_scan_list(filters=filters).iterator(chunk_size=500)
    return csv_response("fakeme-scans", header, rows, row)


def _form_errors(form: ScanFilterForm) -> str:
    return "; ".join(
        f"{form.fields[name].label or name}: {' '.join(errs)}" for name, errs in form.errors.items()
    )


def scan_detail(request: HttpRequest, scan_id: str) -> HttpResponse:
    try:
        scan = console_scan_get(scan_id=scan_id)
    except ApplicationError as exc:
        return _error_response(request, exc)
    context = {
        "scan": scan,
        "evidence": veil(scan_evidence(scan), user=request.user, session=request.session),
        "history": post_history(platform=scan.platform, external_id=scan.external_id),
        "feedback": scan_feedback_list(scan=scan),
    }
    return render_page(request, "scan", context)


def media_file(request: HttpRequest, scan_id: str, index: int) -> HttpResponse:
    """The stored file, to staff only (never a public URL); formats browsers cannot show become PNG."""
    try:
        media = console_scan_media_get(scan_id=scan_id, index=index)
        if not media.storage_key or media.deleted_at is not None:
            raise ApplicationError(
                "media_deleted", "The media file has been deleted (retention period).", status=410
            )
        content_type = BROWSER_TYPES.get(media.format)
        if content_type is None and media.kind == ScanMedia.Kind.IMAGE:
            return _png_preview(media)
        content_type = content_type or "application/octet-stream"
        response = _byte_range(request, media, content_type) or FileResponse(
            default_storage.open(media.storage_key, "rb"), content_type=content_type
        )
    except ApplicationError as exc:
        return _error_response(request, exc)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response


def _byte_range(request: HttpRequest, media: ScanMedia, content_type: str) -> HttpResponse | None:
    """A 206 for a single ``Range: bytes=a-b`` (how a video player seeks); None without one."""
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if match is None:
        return None
    size = default_storage.size(media.storage_key)
    first, last = match.groups()
    if not first and not last:
        return None
    if first:
        start, end = int(first), int(last) if last else size - 1
    else:  # bytes=-N: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    end = min(end, size - 1, start + MAX_RANGE_BYTES - 1)
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with default_storage.open(media.storage_key, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start + 1)
    response = HttpResponse(data, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _png_preview(media: ScanMedia) -> HttpResponse:
    try:
        rgb = load_image(media_read(media.storage_key))
    except DetectionError as exc:
        raise media_error(exc) from exc
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ApplicationError("render_failed", "The image could not be converted for display.", status=500)
    return HttpResponse(
        buf.tobytes(), content_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


def _frame_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("frame")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError("invalid_frame", "The frame must be a whole number.") from None


def face_heatmap(request: HttpRequest, scan_id: str, index: int, face: int) -> HttpResponse:
    try:
        media = console_scan_media_get(scan_id=scan_id, index=index)
        png = evidence_images.face_heatmap_png(media, face=face, frame=_frame_param(request))
    except ApplicationError as exc:
        return _error_response(request, exc)
    return HttpResponse(png, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def frame_thumbnail(request: HttpRequest, scan_id: str, index: int, frame: int) -> HttpResponse:
    try:
        media = console_scan_media_get(scan_id=scan_id, index=index)
        jpeg = evidence_images.frame_thumbnail_jpeg(media, frame=frame, threshold=media.scan.threshold)
    except ApplicationError as exc:
        return _error_response(request, exc)
    return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


def media_thumbnail(request: HttpRequest, scan_id: str, index: int) -> HttpResponse:
    try:
        media = console_scan_media_get(scan_id=scan_id, index=index)
        jpeg = evidence_images.media_thumbnail_jpeg(media)
    except ApplicationError as exc:
        return _error_response(request, exc)
    return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
