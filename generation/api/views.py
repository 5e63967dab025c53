"""Generation API views: authenticate (API key), parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.api.serializers import (
    EnginesOutputSerializer,
    GenerationCreateInputSerializer,
    GenerationOutputSerializer,
    GenerationRegenerateInputSerializer,
    ProtectedIdentityCreateInputSerializer,
    ProtectedIdentityOutputSerializer,
)
from generation.engines import engine_statuses
from generation.models import Generation
from generation.selectors import generation_get, generation_list, protected_identity_list
from generation.services.generations import generation_regenerate, generation_submit
from generation.services.protected_identities import protected_identity_create, protected_identity_delete
from moderation.core.api.common import ERROR_RESPONSES, refuse_oversized_body, request_platform
from moderation.core.errors import ApplicationError

_CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4"}
_SUBMIT_ERRORS = {
    **ERROR_RESPONSES,
    400: OpenApiResponse(description="Invalid request (codes: consent_required, invalid)"),
    422: OpenApiResponse(
        description=(
            "The media cannot be used (codes: no_face_in_source, several_faces_in_source, no_face_in_target, "
            "source_not_image, target_too_small, video_too_long, corrupt_media, protected_identity, "
            "engine_unavailable)"
        )
    ),
    429: OpenApiResponse(
        description="Throttled (throttled) or generation_rate_limited (fields.scope: user|platform)"
    ),
}


class GenerationPagination(CursorPagination):
    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _accepted(generation: Generation) -> Response:
    generation.refresh_from_db()  # in the embedded mode the task has already run
    response = Response(GenerationOutputSerializer(generation).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse(
        "api-generation-detail", kwargs={"generation_id": generation.generation_id}
    )
    return response


class GenerationListCreateApi(APIView):
    @extend_schema(
        operation_id="generations_create",
        summary="Ask for a watermarked face swap of the source's face into the target (queued)",
        request={"multipart/form-data": GenerationCreateInputSerializer},
        responses={202: GenerationOutputSerializer, **_SUBMIT_ERRORS},
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = GenerationCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        generation = generation_submit(
            platform=platform,
            source=data.get("source"),
            target=data.get("target"),
            user_id=data["user_id"],
            consent=data["consent"],
            engine=data["engine"],
            seed=data["seed"],
            options=data["options"],
        )
        return _accepted(generation)

    @extend_schema(
        operation_id="generations_list",
        summary="The platform's generations, newest first",
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY)
            for name in ("user_id", "status", "engine")
        ],
        responses={200: GenerationOutputSerializer(many=True), 401: ERROR_RESPONSES[401]},
    )
    def get(self, request: Request) -> Response:
        generations = generation_list(platform=request_platform(request), filters=request.query_params.dict())
        paginator = GenerationPagination()
        page = paginator.paginate_queryset(generations, request, view=self)
        return paginator.get_paginated_response(GenerationOutputSerializer(page, many=True).data)


class GenerationDetailApi(APIView):
    @extend_schema(
        operation_id="generations_retrieve",
        summary="A generation: status, progress, and once completed its output",
        responses={200: GenerationOutputSerializer, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def get(self, request: Request, generation_id: str) -> Response:
        generation = generation_get(platform=request_platform(request), generation_id=generation_id)
        return Response(GenerationOutputSerializer(generation).data)


class GenerationResultApi(APIView):
    @extend_schema(
        operation_id="generations_result",
        summary="Download the watermarked output (the requesting platform only)",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            401: ERROR_RESPONSES[401],
            404: ERROR_RESPONSES[404],
            409: OpenApiResponse(description="Not completed (yet): generation_not_ready, generation_failed"),
            410: OpenApiResponse(description="media_deleted: the retention period has passed"),
        },
    )
    def get(self, request: Request, generation_id: str) -> FileResponse:
        generation = generation_get(platform=request_platform(request), generation_id=generation_id)
        if generation.status == Generation.Status.FAILED:
            raise ApplicationError(
                "generation_failed", "This generation failed; it has no output.", status=409
            )
        if generation.media_deleted_at is not None:
            raise ApplicationError(
                "media_deleted", "This generation's files were deleted by the retention policy.", status=410
            )
        if generation.status != Generation.Status.COMPLETED or not generation.output_storage_key:
            raise ApplicationError(
                "generation_not_ready", "The generation has not completed yet.", status=409
            )
        response = FileResponse(
            default_storage.open(generation.output_storage_key, "rb"),
            content_type=_CONTENT_TYPES.get(generation.output_format, "application/octet-stream"),
            as_attachment=True,
            filename=f"{generation.generation_id}.{generation.output_format}",
        )
        response["Cache-Control"] = "private, no-store"
        return response


class GenerationRegenerateApi(APIView):
    @extend_schema(
        operation_id="generations_regenerate",
        summary="Re-run a generation with a new seed or options: a new generation linked to it (queued)",
        request={
            "application/json": GenerationRegenerateInputSerializer,
            "multipart/form-data": GenerationRegenerateInputSerializer,
        },
        responses={
            202: GenerationOutputSerializer,
            **_SUBMIT_ERRORS,
            410: OpenApiResponse(description="inputs_deleted"),
        },
    )
    def post(self, request: Request, generation_id: str) -> Response:
        serializer = GenerationRegenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        generation = generation_regenerate(
            platform=request_platform(request),
            generation_id=generation_id,
            seed=data["seed"],
            options=data["options"],
            engine=data["engine"],
            consent=data["consent"],
        )
        return _accepted(generation)


class GenerationEnginesApi(APIView):
    @extend_schema(
        operation_id="generations_engines",
        summary="The face-swap engines, whether each is available, and why not",
        responses={200: EnginesOutputSerializer, 401: ERROR_RESPONSES[401]},
    )
    def get(self, request: Request) -> Response:
        statuses = engine_statuses()
        default = next((s.name for s in statuses if s.default), None)
        return Response({"engines": [s.to_dict() for s in statuses], "default": default})


class ProtectedIdentityListCreateApi(APIView):
    @extend_schema(
        operation_id="protected_identities_create",
        summary="Protect a face: generations showing it (as source or in the target) are refused",
        request={"multipart/form-data": ProtectedIdentityCreateInputSerializer},
        responses={
            201: ProtectedIdentityOutputSerializer,
            **ERROR_RESPONSES,
            422: OpenApiResponse(description="no_face, several_faces, not_an_image, corrupt_media"),
        },
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = ProtectedIdentityCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        row = protected_identity_create(platform=platform, upload=data["image"], label=data["label"])
        return Response(ProtectedIdentityOutputSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="protected_identities_list",
        summary="The platform's protected identities (descriptors only; no photos are kept)",
        responses={200: ProtectedIdentityOutputSerializer(many=True), 401: ERROR_RESPONSES[401]},
    )
    def get(self, request: Request) -> Response:
        rows = protected_identity_list(platform=request_platform(request))
        return Response(ProtectedIdentityOutputSerializer(rows, many=True).data)


class ProtectedIdentityDetailApi(APIView):
    @extend_schema(
        operation_id="protected_identities_destroy",
        responses={204: None, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def delete(self, request: Request, identity_id: UUID) -> Response:
        protected_identity_delete(platform=request_platform(request), identity_id=identity_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
