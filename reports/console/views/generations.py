"""Generation log: every face swap FakeME made — who asked, when, which engine, the consent given —
with thumbnails of the source, the target and the (watermarked) output. Staff only.

Mounted by one line in ``reports/console/urls.py`` (an ``include`` of ``urlpatterns`` below).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from detection.errors import DetectionError
from detection.imaging import load_image
from detection.video import read_frame
from generation.models import Generation, MediaKind
from generation.selectors import GENERATION_ID_PATTERN, generation_log, generation_number
from moderation.errors import ApplicationError
from moderation.services.media import media_local_path, media_read
from reports.console.access import error_page, staff_required
from reports.console.evidence_images import jpeg_thumbnail
from reports.console.selectors import platform_list

PAGE_SIZE = 50
THUMB_SIDE = 160
CACHE_SECONDS = 24 * 3600
ROLES = ("source", "target", "output")


class GenerationFilterForm(forms.Form):
    platform = forms.ModelChoiceField(
        queryset=platform_list().none(), required=False, empty_label="All platforms"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Generation.Status.choices], required=False)
    engine = forms.ChoiceField(choices=[("", "Any engine"), *Generation.Engine.choices], required=False)
    user_id = forms.CharField(required=False, max_length=255, label="User id")
    generation = forms.RegexField(
        regex=rf"^\s*{GENERATION_ID_PATTERN}\s*$",
        required=False,
        label="Generation id",
        error_messages={"invalid": "A generation id is gen_ and 10 hexadecimal digits."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platform_list()


@require_GET
@staff_required
def generation_list(request: HttpRequest) -> HttpResponse:
    form = GenerationFilterForm(request.GET or None)
    filters: dict[str, Any] | None = {}
    if request.GET:
        filters = {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else None
    generations = generation_log(filters=filters) if filters is not None else Generation.objects.none()
    page = Paginator(generations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "console/generations.html", {"form": form, "page": page, "nav": "generations"})


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
        raise ApplicationError(exc.code, exc.message, status=422) from exc
    return jpeg_thumbnail(rgb, THUMB_SIDE, quality=82)


@require_GET
@staff_required
def generation_thumbnail(request: HttpRequest, generation_id: str, role: str) -> HttpResponse:
    """A small JPEG of the source, the target (first frame of a video) or the output."""
    generation = Generation.objects.filter(pk=generation_number(generation_id) or 0).first()
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


urlpatterns = [
    path("", generation_list, name="generations"),
    path("<str:generation_id>/<str:role>.jpg", generation_thumbnail, name="generation-thumb"),
]
