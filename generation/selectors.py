"""Reads. API selectors take the calling platform and never return another platform's rows;
``generation_log`` is the staff console's view across platforms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from generation.models import Generation, ProtectedIdentity
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform
from watermark.ids import payload_for_generation_id

GENERATION_ID_PATTERN = r"gen_[0-9a-f]{10}"
_GENERATION_ID = re.compile(rf"^{GENERATION_ID_PATTERN}$")
GENERATION_FILTERS = ("user_id", "status", "engine")


def generation_number(generation_id: str) -> int | None:
    """The record's number for a public id ``gen_…``; None when it is not one."""
    text = generation_id.strip().lower()
    return payload_for_generation_id(text) if _GENERATION_ID.match(text) else None


def generation_list(*, platform: Platform, filters: Mapping[str, Any] | None = None) -> QuerySet[Generation]:
    queryset = Generation.objects.filter(platform=platform).select_related("platform", "parent")
    for name, value in (filters or {}).items():
        if name in GENERATION_FILTERS and value not in (None, ""):
            queryset = queryset.filter(**{name: value})
    return queryset


def generation_get(*, platform: Platform, generation_id: str) -> Generation:
    number = generation_number(generation_id)
    generation = generation_list(platform=platform).filter(pk=number).first() if number else None
    if generation is None:  # another platform's generation is indistinguishable from a missing one
        raise ApplicationError("not_found", "No such generation.", status=404)
    return generation


def protected_identity_list(*, platform: Platform) -> QuerySet[ProtectedIdentity]:
    return ProtectedIdentity.objects.filter(platform=platform)


def generation_log(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Generation]:
    """Every platform's generations, newest first, for staff. Filters: ``platform`` (a Platform or id),
    ``status``, ``engine``, ``user_id``, ``generation`` (``gen_…``; an unknown form matches nothing)."""
    queryset = Generation.objects.select_related("platform", "parent").order_by("-created_at", "-id")
    filters = filters or {}
    platform = filters.get("platform")
    if platform:
        queryset = queryset.filter(platform=platform)
    for name in ("status", "engine", "user_id"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("generation"):
        queryset = queryset.filter(pk=generation_number(str(filters["generation"])) or 0)
    return queryset
