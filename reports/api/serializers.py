"""Serializers for the platform's report and appeal endpoints: request fields in, representations out."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.decisions import APPEAL, decision_choices, final_decision_values
from reports.models import (
    COMMENT_MAX_LENGTH,
    REPORTABLE_CATEGORIES,
    STATEMENT_MAX_LENGTH,
    Report,
    ReviewItem,
    ScanFeedback,
)

# -- input -------------------------------------------------------------------------------


class ReportCreateInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255, help_text="The reported post's id on the platform.")
    reporter_id = serializers.CharField(max_length=255, help_text="The reporting user's id on the platform.")
    category = serializers.ChoiceField(choices=[(c.value, c.label) for c in REPORTABLE_CATEGORIES])
    comment = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    media = serializers.FileField(required=False, allow_empty_file=True, help_text="The post's media file.")
    media_url = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Or its URL."
    )
    scan_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Or an earlier scan of the post."
    )


class AppealCreateInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255, help_text="The tagged post's id on the platform.")
    appellant_id = serializers.CharField(
        max_length=255, help_text="The post's author (its id on the platform)."
    )
    statement = serializers.CharField(
        max_length=STATEMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


# -- output ------------------------------------------------------------------------------


class ResolutionSerializer(serializers.Serializer):
    """The decision on the review item, and what the platform must apply (null fields until decided)."""

    id = serializers.UUIDField(help_text="The review item (one per reported post).")
    status = serializers.ChoiceField(choices=ReviewItem.Status.choices)
    decision = serializers.SerializerMethodField()
    hashtags = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="The hashtags to publish once decided."
    )
    takedown = serializers.BooleanField(source="takedown_requested")
    decided_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=decision_choices(), allow_null=True))
    def get_decision(self, item: ReviewItem) -> str | None:
        # "escalated" is internal: for the platform the item is still under review.
        if item.status == ReviewItem.Status.RESOLVED:
            return item.decision
        return None


class ReportOutputSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(source="external_post_id")
    scan_id = serializers.UUIDField(
        allow_null=True, help_text="The re-scan this report triggered (GET /api/v1/scans/{id})."
    )
    review = ResolutionSerializer(source="review_item")
    duplicate = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "external_id",
            "reporter_id",
            "category",
            "comment",
            "outcome",
            "scan_id",
            "review",
            "duplicate",
            "created_at",
        ]

    def get_duplicate(self, report: Report) -> bool:
        """True when this reporter had already reported the post (the earlier report is returned)."""
        return bool(self.context.get("duplicate", False))


class AppealOutputSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(source="external_post_id")
    decision = serializers.SerializerMethodField()
    takedown = serializers.BooleanField(source="takedown_requested")
    scan_id = serializers.UUIDField(allow_null=True, help_text="The scan that tagged the post.")

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "external_id",
            "appellant_id",
            "statement",
            "status",
            "decision",
            "hashtags",
            "takedown",
            "scan_id",
            "created_at",
            "decided_at",
        ]

    statement = serializers.CharField(source="appeal_statement")

    @extend_schema_field(serializers.ChoiceField(choices=final_decision_values(APPEAL), allow_null=True))
    def get_decision(self, item: ReviewItem) -> str | None:
        return item.decision if item.status == ReviewItem.Status.RESOLVED else None


class FeedbackCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ScanFeedback.Kind.choices, help_text="What the verdict was, in the platform's judgement."
    )
    note = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=True
    )


class FeedbackOutputSerializer(serializers.ModelSerializer):
    scan_id = serializers.UUIDField()

    class Meta:
        model = ScanFeedback
        fields = ["id", "scan_id", "kind", "note", "verdict", "model_version", "created_at"]
