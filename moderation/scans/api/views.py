"""API v1 views: authenticate (API key), parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.core.api.common import ERROR_RESPONSES, refuse_oversized_body, request_platform
from moderation.core.errors import ApplicationError
from moderation.core.media import media_from_upload, media_from_url
from moderation.provenance.banks import bank_entry_delete
from moderation.provenance.watermarks import watermark_recover_media
from moderation.scans.api.serializers import (
    KnownFakeCreateInputSerializer,
    KnownFakeOutputSerializer,
    ScanCreateInputSerializer,
    ScanCreateMultipartSerializer,
    ScanOutputSerializer,
    ScanSummarySerializer,
    WatermarkRecoverInputSerializer,
    WatermarkRecoveryOutputSerializer,
)
from moderation.scans.known_fakes import known_fake_submit
from moderation.scans.models import Scan
from moderation.scans.selectors import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SCAN_FILTER_CHOICES,
    known_fake_get,
    known_fake_list,
    list_params_clean,
    scan_get,
    scan_list,
    scan_media_get,
)
from moderation.scans.submission import scan_submit

_TRUE = {"1", "true", "yes", "on"}
_CONTENT_TYPES = {"mov": "video/quicktime", "avi": "video/x-msvideo"}  # the rest are kind/format


class ScanPagination(CursorPagination):
    ordering = "-created_at"
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


PAGING_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Opaque position: take it from a page's `next` or `previous` link.",
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        OpenApiParameter.QUERY,
        description=f"Items per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}). Any other "
        "parameter (e.g. `limit`) is refused with 400 `invalid_filter`.",
    ),
]


def paginated(name: str, item: Any) -> Any:
    """The schema of a cursor page of ``item``: ``next``/``previous`` links and ``results``."""
    return inline_serializer(
        name,
        fields={
            "next": serializers.URLField(allow_null=True, help_text="The next page (older items), or null."),
            "previous": serializers.URLField(allow_null=True, help_text="The previous page, or null."),
            "results": item,
        },
    )


class ScanListCreateApi(APIView):
    @extend_schema(
        operation_id="scans_create",
        summary="Scan a post's media before it is published",
        request={
            "multipart/form-data": ScanCreateMultipartSerializer,
            "application/json": ScanCreateInputSerializer,
        },
        parameters=[
            OpenApiParameter(
                "async", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="Always queue (202)."
            ),
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={
            200: OpenApiResponse(ScanOutputSerializer, description="Scanned now (images)"),
            202: OpenApiResponse(ScanOutputSerializer, description="Queued (videos, ?async=1)"),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = ScanCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        submission = scan_submit(
            platform=platform,
            uploads=request.FILES.getlist("media"),
            media_urls=data["media_urls"],
            external_id=data["external_id"],
            author_id=data["author_id"],
            hashtags=data["hashtags"],
            force_async=request.query_params.get("async", "").lower() in _TRUE,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        scan = submission.scan
        queued = scan.mode == Scan.Mode.ASYNC
        response = Response(
            ScanOutputSerializer(scan).data, status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
        )
        if queued:
            response["Location"] = reverse("api-scan-detail", kwargs={"scan_id": scan.pk})
        if submission.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="scans_list",
        summary="The platform's scans, newest first (per-face/per-frame results: GET the scan)",
        parameters=[
            OpenApiParameter(
                name,
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(choices) if choices is not None else None,
                description="Unknown values are refused with 400 `invalid_filter`." if choices else "",
            )
            for name, choices in SCAN_FILTER_CHOICES.items()
        ]
        + PAGING_PARAMETERS,
        responses={
            200: paginated("PaginatedScanSummaryList", ScanSummarySerializer(many=True)),
            400: ERROR_RESPONSES[400],
            401: ERROR_RESPONSES[401],
            429: ERROR_RESPONSES[429],
        },
    )
    def get(self, request: Request) -> Response:
        platform = request_platform(request)
        filters = list_params_clean(request.query_params, filters=SCAN_FILTER_CHOICES)
        scans = scan_list(platform=platform, filters=filters, with_results=False)
        paginator = ScanPagination()
        page = paginator.paginate_queryset(scans, request, view=self)
        return paginator.get_paginated_response(ScanSummarySerializer(page, many=True).data)


class ScanDetailApi(APIView):
    @extend_schema(
        operation_id="scans_retrieve",
        summary="A scan: status, progress, and once completed the verdict and hashtags",
        responses={200: ScanOutputSerializer, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def get(self, request: Request, scan_id: UUID) -> Response:
        return Response(
            ScanOutputSerializer(scan_get(platform=request_platform(request), scan_id=scan_id)).data
        )


class ScanMediaContentApi(APIView):
    @extend_schema(
        operation_id="scans_media_content",
        summary="Download a scan's stored media file (until its retention period ends)",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            401: ERROR_RESPONSES[401],
            404: ERROR_RESPONSES[404],
            410: OpenApiResponse(description="Deleted after the retention period"),
        },
    )
    def get(self, request: Request, scan_id: UUID, index: int) -> FileResponse:
        media = scan_media_get(platform=request_platform(request), scan_id=scan_id, index=index)
        if not media.storage_key:
            raise ApplicationError(
                "media_expired", "The media was deleted after its retention period.", status=410
            )
        content_type = _CONTENT_TYPES.get(media.format, f"{media.kind}/{media.format}")
        response = FileResponse(default_storage.open(media.storage_key, "rb"), content_type=content_type)
        response["Cache-Control"] = "private, no-store"
        return response


class KnownFakeListCreateApi(APIView):
    @extend_schema(
        operation_id="known_fakes_create",
        summary="Submit media the platform knows to be a deepfake (file, URL, or one of its scans)",
        request={
            "multipart/form-data": KnownFakeCreateInputSerializer,
            "application/json": KnownFakeCreateInputSerializer,
        },
        responses={
            201: KnownFakeOutputSerializer,
            200: OpenApiResponse(
                KnownFakeOutputSerializer, description="The bank already held this media: its entry."
            ),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = KnownFakeCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        added = known_fake_submit(
            platform=platform,
            upload=data.get("media"),
            media_url=data["media_url"],
            scan_id=data["scan_id"],
            media_index=data["media_index"],
            note=data["note"],
        )
        code = status.HTTP_201_CREATED if added.created else status.HTTP_200_OK
        return Response(KnownFakeOutputSerializer(added.entry).data, status=code)

    @extend_schema(
        operation_id="known_fakes_list",
        summary="The known fakes this platform submitted",
        parameters=PAGING_PARAMETERS,
        responses={
            200: paginated("PaginatedKnownFakeList", KnownFakeOutputSerializer(many=True)),
            400: ERROR_RESPONSES[400],
            401: ERROR_RESPONSES[401],
        },
    )
    def get(self, request: Request) -> Response:
        platform = request_platform(request)
        list_params_clean(request.query_params, filters={})
        entries = known_fake_list(platform=platform).select_related("scan_media")
        paginator = ScanPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(KnownFakeOutputSerializer(page, many=True).data)


class KnownFakeDetailApi(APIView):
    @extend_schema(
        operation_id="known_fakes_retrieve",
        responses={200: KnownFakeOutputSerializer, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def get(self, request: Request, entry_id: UUID) -> Response:
        entry = known_fake_get(platform=request_platform(request), entry_id=entry_id)
        return Response(KnownFakeOutputSerializer(entry).data)

    @extend_schema(
        operation_id="known_fakes_destroy",
        summary="Withdraw a known fake this platform submitted",
        responses={204: None, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def delete(self, request: Request, entry_id: UUID) -> Response:
        bank_entry_delete(entry=known_fake_get(platform=request_platform(request), entry_id=entry_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatermarkRecoverApi(APIView):
    @extend_schema(
        operation_id="watermark_recover",
        summary="Read FakeME's invisible watermark from an image or video",
        description=(
            "A mark found proves the media came from FakeME's generator and names the generation. "
            "Nothing is stored."
        ),
        request={"multipart/form-data": WatermarkRecoverInputSerializer},
        responses={200: WatermarkRecoveryOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = WatermarkRecoverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload, url = serializer.validated_data.get("media"), serializer.validated_data["media_url"]
        if bool(upload) == bool(url):
            raise ApplicationError("no_media", "Send exactly one of media (a file) or media_url.")
        media = (
            media_from_upload(upload, platform=platform) if upload else media_from_url(url, platform=platform)
        )
        return Response(WatermarkRecoveryOutputSerializer(watermark_recover_media(media)).data)
