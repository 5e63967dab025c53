"""Report button and appeal endpoints for platforms (API key auth, as the scan API)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.core.api.common import ERROR_RESPONSES, refuse_oversized_body, request_platform
from reports.api.serializers import (
    AppealCreateInputSerializer,
    AppealOutputSerializer,
    FeedbackCreateInputSerializer,
    FeedbackOutputSerializer,
    ReportCreateInputSerializer,
    ReportOutputSerializer,
)
from reports.selectors import appeal_get, report_get
from reports.services.appeals import appeal_create
from reports.services.feedback import feedback_create
from reports.services.reports import report_create

_REPORT_ERRORS = {
    **ERROR_RESPONSES,
    409: OpenApiResponse(description="Conflict (appeal_exists, not_appealable)"),
    410: OpenApiResponse(description="The scan's media were deleted (send the media again)"),
    429: OpenApiResponse(
        description="Throttled: the platform (throttled) or the reporter (report_rate_limited)"
    ),
}


class ReportCreateApi(APIView):
    @extend_schema(
        operation_id="reports_create",
        summary="A user reported a post: queue a re-scan and add it to the post's review item",
        request={
            "multipart/form-data": ReportCreateInputSerializer,
            "application/json": ReportCreateInputSerializer,
        },
        responses={
            201: OpenApiResponse(ReportOutputSerializer, description="Recorded; the re-scan is queued"),
            200: OpenApiResponse(ReportOutputSerializer, description="This reporter had already reported it"),
            **_REPORT_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        platform = request_platform(request)
        refuse_oversized_body(request, platform)
        serializer = ReportCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        submission = report_create(
            platform=platform,
            external_post_id=data["external_id"],
            reporter_id=data["reporter_id"],
            category=data["category"],
            comment=data["comment"],
            upload=data.get("media"),
            media_url=data["media_url"],
            scan_id=data["scan_id"],
        )
        body = ReportOutputSerializer(submission.report, context={"duplicate": submission.duplicate}).data
        response = Response(
            body, status=status.HTTP_200_OK if submission.duplicate else status.HTTP_201_CREATED
        )
        response["Location"] = reverse("api-report-detail", kwargs={"report_id": submission.report.pk})
        return response


class ReportDetailApi(APIView):
    @extend_schema(
        operation_id="reports_retrieve",
        summary="A report, its outcome, and the decision on its post (hashtags, takedown)",
        responses={200: ReportOutputSerializer, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def get(self, request: Request, report_id: UUID) -> Response:
        return Response(
            ReportOutputSerializer(report_get(platform=request_platform(request), report_id=report_id)).data
        )


class AppealCreateApi(APIView):
    @extend_schema(
        operation_id="appeals_create",
        summary="The post's author contests its #Deepfake tag (once per post)",
        request={
            "application/json": AppealCreateInputSerializer,
            "multipart/form-data": AppealCreateInputSerializer,
        },
        responses={
            201: AppealOutputSerializer,
            400: ERROR_RESPONSES[400],
            401: ERROR_RESPONSES[401],
            403: OpenApiResponse(description="not_the_author: the appellant is not the post's author"),
            409: _REPORT_ERRORS[409],
            429: ERROR_RESPONSES[429],
        },
    )
    def post(self, request: Request) -> Response:
        serializer = AppealCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        appeal = appeal_create(
            platform=request_platform(request),
            external_post_id=data["external_id"],
            appellant_id=data["appellant_id"],
            statement=data["statement"],
        )
        response = Response(AppealOutputSerializer(appeal).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse("api-appeal-detail", kwargs={"appeal_id": appeal.pk})
        return response


class AppealDetailApi(APIView):
    @extend_schema(
        operation_id="appeals_retrieve",
        summary="An appeal and its decision",
        responses={200: AppealOutputSerializer, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]},
    )
    def get(self, request: Request, appeal_id: UUID) -> Response:
        return Response(
            AppealOutputSerializer(appeal_get(platform=request_platform(request), appeal_id=appeal_id)).data
        )


class ScanFeedbackApi(APIView):
    @extend_schema(
        operation_id="scans_feedback_create",
        summary="Say a scan's verdict was a false positive, a false negative, or correct",
        request={"application/json": FeedbackCreateInputSerializer},
        responses={
            201: FeedbackOutputSerializer,
            400: ERROR_RESPONSES[400],
            401: ERROR_RESPONSES[401],
            404: ERROR_RESPONSES[404],
            409: OpenApiResponse(description="scan_not_completed: the scan has no verdict yet"),
        },
    )
    def post(self, request: Request, scan_id: UUID) -> Response:
        serializer = FeedbackCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        feedback = feedback_create(
            platform=request_platform(request), scan_id=scan_id, kind=data["kind"], note=data["note"]
        )
        return Response(FeedbackOutputSerializer(feedback).data, status=status.HTTP_201_CREATED)
