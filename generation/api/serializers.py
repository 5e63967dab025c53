"""Serializers translate only: the generation request in, the generation's public representation out."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generation.engines import AUTO, ENGINES
from generation.models import Generation, ProtectedIdentity
from generation.services.generations import SEED_LIMIT
from moderation.scans.api.serializers import ProgressSerializer  # the same shape as a scan's progress

# -- input ---------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObjectField(serializers.JSONField):
    """A JSON object, sent as an object (JSON bodies) or as JSON text (a multipart form field)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bytes | str):
            if not data.strip():
                return {}
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder goes
                raise serializers.ValidationError("Must be a JSON object.") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return data


_ENGINE_HELP = "auto (default: SimSwap when configured, else the built-in engine), landmark or simswap."
_SEED_HELP = "Draws the options left unset (landmark engine); same seed and options = same output."


class GenerationCreateInputSerializer(serializers.Serializer):
    source = serializers.FileField(
        required=False, allow_empty_file=True, help_text="A photo showing exactly one face."
    )
    target = serializers.FileField(
        required=False, allow_empty_file=True, help_text="The image or video to put that face into."
    )
    user_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    consent = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: who consented to this swap and how (stored with the generation).",
    )
    engine = serializers.ChoiceField(
        choices=[AUTO, *ENGINES], required=False, allow_blank=True, default="", help_text=_ENGINE_HELP
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=SEED_LIMIT - 1,
        help_text=_SEED_HELP,
    )
    options = JsonObjectField(
        required=False,
        default=dict,
        help_text='Engine options: landmark {"inner_shape", "jaw_shape": 0..1, "colour_transfer": bool, '
        '"blend": "feather"|"poisson"}; simswap {"all_faces": bool}.',
    )


class GenerationRegenerateInputSerializer(serializers.Serializer):
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=SEED_LIMIT - 1,
        help_text=_SEED_HELP,
    )
    options = JsonObjectField(
        required=False, allow_null=True, default=None, help_text="Default: the parent's."
    )
    engine = serializers.ChoiceField(
        choices=ENGINES, required=False, allow_blank=True, default="", help_text="Default: the parent's."
    )
    consent = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Default: the parent's consent statement."
    )


class ProtectedIdentityCreateInputSerializer(serializers.Serializer):
    image = serializers.FileField(
        allow_empty_file=True, help_text="A photo showing exactly the one face to protect."
    )
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# -- output --------------------------------------------------------------------------------


class InputFileSerializer(serializers.Serializer):
    kind = serializers.CharField()
    format = serializers.CharField()
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()


class OutputFileSerializer(InputFileSerializer):
    pdq = serializers.CharField(
        help_text="PDQ perceptual hash (images), as registered in the known-fake bank."
    )
    url = serializers.CharField(help_text="Download it here (this platform's API key only).")


class WatermarkInfoSerializer(serializers.Serializer):
    payload = serializers.IntegerField(help_text="The 40-bit payload every output frame carries.")
    generation_id = serializers.CharField()


class GenerationErrorSerializer(serializers.Serializer):
    code = serializers.CharField(source="error_code")
    message = serializers.CharField(source="error_message")


class GenerationOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="generation_id", help_text="gen_ + 10 hex digits: what the watermark names."
    )
    progress = ProgressSerializer(source="*")
    consent = serializers.CharField(source="consent_statement")
    parent_id = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    watermark = serializers.SerializerMethodField()
    result = serializers.JSONField(help_text="Engine settings used; faces (images) or frames (videos).")
    error = serializers.SerializerMethodField()
    # The public name stays ``finished_at`` (API v1); the row's field is the job lifecycle's ``completed_at``.
    finished_at = serializers.DateTimeField(source="completed_at", allow_null=True, required=False)

    class Meta:
        model = Generation
        fields = [
            "id", "status", "progress", "engine", "seed", "options", "user_id", "consent", "parent_id",
            "source", "target", "output", "watermark", "result", "error", "timings_ms", "created_at",
            "started_at", "finished_at", "media_deleted_at",
        ]  # fmt: skip

    def get_parent_id(self, generation: Generation) -> str | None:
        return generation.parent.generation_id if generation.parent_id and generation.parent else None

    @extend_schema_field(InputFileSerializer)
    def get_source(self, generation: Generation) -> dict[str, Any]:
        return {
            "kind": "image",
            "format": generation.source_format,
            "sha256": generation.source_sha256,
            "size_bytes": generation.source_size_bytes,
        }

    @extend_schema_field(InputFileSerializer)
    def get_target(self, generation: Generation) -> dict[str, Any]:
        return {
            "kind": generation.target_kind,
            "format": generation.target_format,
            "sha256": generation.target_sha256,
            "size_bytes": generation.target_size_bytes,
        }

    @extend_schema_field(OutputFileSerializer(allow_null=True))
    def get_output(self, generation: Generation) -> dict[str, Any] | None:
        if generation.status != Generation.Status.COMPLETED or not generation.output_storage_key:
            return None
        return {
            "kind": generation.output_kind,
            "format": generation.output_format,
            "sha256": generation.output_sha256,
            "size_bytes": generation.output_size_bytes,
            "pdq": generation.output_pdq,
            "url": reverse("api-generation-result", kwargs={"generation_id": generation.generation_id}),
        }

    @extend_schema_field(WatermarkInfoSerializer)
    def get_watermark(self, generation: Generation) -> dict[str, Any]:
        return {"payload": generation.pk, "generation_id": generation.generation_id}

    @extend_schema_field(GenerationErrorSerializer(allow_null=True))
    def get_error(self, generation: Generation) -> dict[str, Any] | None:
        return GenerationErrorSerializer(generation).data if generation.error_code else None


class EngineSerializer(serializers.Serializer):
    name = serializers.CharField()
    available = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why it is (or is not) available, in plain words.")
    default = serializers.BooleanField(help_text="Used when a request names no engine.")


class EnginesOutputSerializer(serializers.Serializer):
    engines = EngineSerializer(many=True)
    default = serializers.CharField(allow_null=True)


class ProtectedIdentityOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtectedIdentity
        fields = ["id", "label", "image_sha256", "created_at"]
