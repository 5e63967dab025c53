"""Generation log: every face swap FakeME made — who asked, when, which engine, the consent given —
with thumbnails of the source, the target and the (watermarked) output. Staff only.

Its two URLs (the log and its thumbnails) are entries of the page registry, ``reports.console.pages``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse

from detection.errors import DetectionError
from detection.imaging import load_image
from detection.video import read_frame
from generation.models import Generation, MediaKind
from generation.selectors import generation_log
from moderation.core.errors import ApplicationError
from moderation.core.media import media_local_path, media_read
from reports.console.access import error_page, media_error
from reports.console.evidence_images import jpeg_thumbnail
from reports.console.forms import GenerationFilterForm
from reports.console.pages import render_page
from reports.console.selectors import console_generation_find

PAGE_SIZE = 50
THUMB_SIDE = 160
CACHE_SECONDS = 24 * 3600
ROLES = ("source", "target", "output")


def generation_list(request: HttpRequest) -> HttpResponse:
    form = GenerationFilterForm(request.GET or None)
    filters: dict[str, Any] | None = {}
    if request.GET:
        filters = {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else None
    generations: Any = generation_log(filters=filters) if filters is not None else []
    page = Paginator(generations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "generations", {"form": form, "page": page})


def _storage_key(generation: Generation, role: str) -> tuple[str, str, str]:
    """(storage key, kind, format) of one of the generation's files."""
    if role == "source":
        return generation.source_storage_key, MediaKind.IMAGE, generation.source_format
    if role == "target":
        return generation.target_storage_key, generation.target_kind, generation.target_format
    return generation.output_storage_key, generation.output_kind, generation.output_format


def _first_frame(key: str, fmt: str) -> np.ndarray:
    with media_local_path(key, f".{fmt}") as local:
        return read_frame(local, 0, max_pixels=settings.FAKEME_GENERATION["MAX_PIXELS"])


def _thumbnail(key: str, kind: str, fmt: str) -> bytes:
    try:
        rgb = _first_frame(key, fmt) if kind == MediaKind.VIDEO else load_image(media_read(key))
    except DetectionError as exc:
        raise media_error(exc) from exc
    return jpeg_thumbnail(rgb, THUMB_SIDE, quality=82)


def generation_thumbnail(request: HttpRequest, generation_id: str, role: str) -> HttpResponse:
    """A small JPEG of the source, the target (first frame of a video) or the output."""
    generation = console_generation_find(generation_id=generation_id)
    if generation is None or role not in ROLES:
        return error_page(request, "Not found", "No such generation file.", status=404)
    key, kind, fmt = _storage_key(generation, role)
    if not key:
        return error_page(request, "Not available", f"This generation has no stored {role} file.", status=404)
    cache_key = f"console:generation-thumb:{key}"
    jpeg = cache.get(cache_key)
    if jpeg is None:
        try:
            jpeg = _thumbnail(key, kind, fmt)
        except ApplicationError as exc:
            return error_page(request, "Not available", exc.message, status=exc.status)
        cache.set(cache_key, jpeg, CACHE_SECONDS)
    return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
