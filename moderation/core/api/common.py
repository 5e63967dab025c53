"""What every API view shares: the calling platform, the early body-size refusal, documented errors."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework.request import Request

from moderation.core.auth import PlatformClient
from moderation.core.errors import ApplicationError
from moderation.core.models import Platform

_FORM_OVERHEAD = 1024 * 1024  # multipart boundaries and text fields around the files

ERROR_RESPONSES = {
    400: OpenApiResponse(description="Invalid request (code: invalid, no_media, ...)"),
    401: OpenApiResponse(description="Missing, invalid or revoked API key"),
    404: OpenApiResponse(description="Not found (or another platform's)"),
    409: OpenApiResponse(description="Idempotency-Key reused with a different request"),
    413: OpenApiResponse(description="Media too large"),
    415: OpenApiResponse(description="Unsupported request content type or media format"),
    422: OpenApiResponse(description="Media could not be fetched or analysed"),
    429: OpenApiResponse(description="Throttled"),
}


def request_platform(request: Request) -> Platform:
    client = request.user
    assert isinstance(client, PlatformClient)  # DEFAULT_PERMISSION_CLASSES: IsAuthenticated
    return client.platform


def refuse_oversized_body(request: Request, platform: Platform) -> None:
    """Answer 413 from the Content-Length alone, before a byte of an oversized body is parsed."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = platform.max_upload_bytes * settings.FAKEME_SCANS["MAX_MEDIA_PER_SCAN"] + _FORM_OVERHEAD
    if length > limit:
        raise ApplicationError("media_too_large", f"The request exceeds {limit:,} bytes.", status=413)
