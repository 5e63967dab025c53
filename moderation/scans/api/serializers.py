"""Serializers translate only: request fields in, the scan's public representation out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan, ScanMedia

# -- input -------------------------------------------------------------------------------


class ScanCreateInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    author_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    hashtags = serializers.ListField(
        child=serializers.CharField(max_length=100, trim_whitespace=False),
        required=False,
        default=list,
        max_length=100,
        help_text="The post's hashtags, as the author wrote them.",
    )
    media_urls = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        required=False,
        default=list,
        max_length=8,
        help_text="http(s) URLs of media the platform hosts (fetched by FakeME; public addresses only).",
    )


class ScanCreateMultipartSerializer(ScanCreateInputSerializer):
    """Schema only: the multipart form, with files under ``media`` (repeat the field for several)."""

    media = serializers.ListField(child=serializers.FileField(allow_empty_file=True), required=False)


class KnownFakeCreateInputSerializer(serializers.Serializer):
    # An empty file is the service's empty_input (as on every endpoint), not DRF's generic invalid.
    media = serializers.FileField(required=False, allow_empty_file=True)
    media_url = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    scan_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    media_index = serializers.IntegerField(required=False, default=0, min_value=0)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class WatermarkRecoverInputSerializer(serializers.Serializer):
    media = serializers.FileField(
        required=False, allow_empty_file=True, help_text="An image or video (multipart upload)."
    )
    media_url = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Or a URL to fetch."
    )


# -- output ------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    percent = serializers.IntegerField(source="progress_percent")
    frames_done = serializers.IntegerField()
    frames_total = serializers.IntegerField()


class ModelInfoSerializer(serializers.Serializer):
    name = serializers.CharField(source="model_name")
    version = serializers.CharField(source="model_version")
    threshold = serializers.FloatField(allow_null=True, help_text="The threshold this verdict used.")
    model_threshold = serializers.FloatField(allow_null=True, help_text="The model card's own threshold.")
    review_threshold = serializers.FloatField(
        allow_null=True,
        help_text="From it up to `threshold` a medium is `uncertain` (not tagged, sent to review); "
        "null: no uncertain band.",
    )


class ErrorInfoSerializer(serializers.Serializer):
    code = serializers.CharField(source="error_code")
    message = serializers.CharField(source="error_message")


class BankMatchSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="Set for the platform's own entries only.")
    bank = serializers.ChoiceField(choices=BankEntry.Bank.choices)
    source = serializers.ChoiceField(choices=BankEntry.Source.choices)
    distance = serializers.IntegerField(allow_null=True, help_text="PDQ bits differing (of 256).")
    media_index = serializers.IntegerField(required=False)


class ScanMediaOutputSerializer(serializers.ModelSerializer):
    verdict = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    known_deepfake_matches = BankMatchSerializer(many=True, source="known_matches")
    stored = serializers.SerializerMethodField()
    result = serializers.JSONField(allow_null=True, help_text="Faces (images) or frames (videos), timings.")
    watermark = serializers.JSONField(allow_null=True)
    signals = serializers.JSONField(
        help_text="Each signal (classifier, watermark, content_credentials, known_fake_bank, allow_bank): "
        "`applied`, its `value`, and when it did not apply a `reason` (no_face, faces_too_small, "
        "frames_without_faces, media_too_small_for_watermark, no_manifest). Empty until analysed."
    )
    content_credentials = serializers.JSONField(
        source="credentials",
        allow_null=True,
        help_text="The C2PA manifest: present, state (invalid = tampered / valid / trusted), signer, "
        "issuer, claim_generator, signed_at, actions with their digitalSourceType, ingredients, "
        "ai_generated; null until analysed.",
    )

    class Meta:
        model = ScanMedia
        fields = [
            "index", "kind", "format", "size_bytes", "source_url", "original_name", "sha256", "pdq",
            "pdq_quality", "verdict", "probability", "decided_by", "reasons", "known_deepfake_matches",
            "watermark", "content_credentials", "signals", "result", "stored",
        ]  # fmt: skip

    def get_verdict(self, media: ScanMedia) -> str | None:
        return media.verdict or None

    def get_decided_by(self, media: ScanMedia) -> str | None:
        return media.decided_by or None

    def get_stored(self, media: ScanMedia) -> bool:
        """Whether the file is still stored (false after the retention period)."""
        return bool(media.storage_key)


class ScanOutputSerializer(serializers.ModelSerializer):
    progress = ProgressSerializer(source="*")
    verdict = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    hashtags = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    known_deepfake_matches = BankMatchSerializer(many=True, source="known_matches")
    watermark = serializers.JSONField(
        allow_null=True,
        help_text=(
            "FakeME's own watermark: the first mark found in the media (found, generation_id, "
            "confidence, ...), else the first recovery; null when no media could carry one."
        ),
    )
    media = ScanMediaOutputSerializer(many=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Scan
        fields = [
            "id", "status", "mode", "progress", "external_id", "author_id", "verdict", "probability",
            "decided_by", "reasons", "tagged", "observe_only", "hashtags", "hashtags_in", "model",
            "known_deepfake_matches", "watermark", "media", "error", "timings_ms", "created_at",
            "started_at", "completed_at",
        ]  # fmt: skip

    def _done(self, scan: Scan) -> bool:
        return scan.status == Scan.Status.COMPLETED

    def get_verdict(self, scan: Scan) -> str | None:
        return scan.verdict or None

    def get_decided_by(self, scan: Scan) -> str | None:
        return scan.decided_by or None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_hashtags(self, scan: Scan) -> list[str]:
        """The hashtags to publish: always a list, empty until the scan has completed (the final list,
        ``#Deepfake`` added or not, exists only then; read it when ``status`` is ``completed``)."""
        return list(scan.hashtags_out) if self._done(scan) else []

    @extend_schema_field(ModelInfoSerializer(allow_null=True))
    def get_model(self, scan: Scan) -> dict[str, Any] | None:
        return ModelInfoSerializer(scan).data if scan.model_name else None

    @extend_schema_field(ErrorInfoSerializer(allow_null=True))
    def get_error(self, scan: Scan) -> dict[str, Any] | None:
        return ErrorInfoSerializer(scan).data if scan.error_code else None


class ScanMediaSummarySerializer(ScanMediaOutputSerializer):
    """A media item in scan lists: everything but the per-face/per-frame ``result``."""

    class Meta(ScanMediaOutputSerializer.Meta):
        fields = [f for f in ScanMediaOutputSerializer.Meta.fields if f != "result"]


class ScanSummarySerializer(ScanOutputSerializer):
    """A scan in lists; GET /scans/{id} has the per-face and per-frame results."""

    media = ScanMediaSummarySerializer(many=True)


class KnownFakeOutputSerializer(serializers.ModelSerializer):
    scan_id = serializers.SerializerMethodField()

    class Meta:
        model = BankEntry
        fields = ["id", "sha256", "pdq", "pdq_quality", "note", "scan_id", "created_at"]

    def get_scan_id(self, entry: BankEntry) -> str | None:
        return str(entry.scan_media.scan_id) if entry.scan_media_id and entry.scan_media else None


class WatermarkMediaSerializer(serializers.Serializer):
    kind = serializers.CharField()
    format = serializers.CharField()
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()


class WatermarkRecoveryOutputSerializer(serializers.Serializer):
    """What recovery found; the same object appears as ``watermark`` on scans and their media."""

    found = serializers.BooleanField()
    payload = serializers.IntegerField(
        allow_null=True, help_text="The 40-bit payload: the generation's number."
    )
    generation_id = serializers.CharField(allow_null=True, help_text="The FakeME generation that made it.")
    confidence = serializers.FloatField(help_text="Share of raw bits agreeing with the decoded codeword.")
    bit_errors = serializers.IntegerField(allow_null=True)
    key_index = serializers.IntegerField(allow_null=True, help_text="0: the current key; 1+: previous keys.")
    scale = serializers.FloatField(allow_null=True)
    angle_deg = serializers.FloatField(allow_null=True)
    frames = serializers.IntegerField(allow_null=True, help_text="Video: frames combined.")
    checked = serializers.BooleanField()
    media = WatermarkMediaSerializer()
