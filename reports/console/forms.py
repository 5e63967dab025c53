"""Console forms: the queue's, archive's, audit log's and generation log's filters, decisions, the
watermark tool's upload."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms

from generation.models import Generation
from generation.selectors import GENERATION_ID_PATTERN
from moderation.core.models import Platform
from moderation.scans.models import Scan, Verdict
from reports.console.selectors import platform_list
from reports.decisions import bulk_decisions
from reports.models import Category

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
HASH_HELP = "SHA-256 (or its first 8+ characters) or PDQ hash of any media of the scan."


class ScanFilterForm(forms.Form):
    """The scans archive's search; every field optional, bad values are form errors (not a crash)."""

    platform = forms.ModelChoiceField(
        queryset=Platform.objects.none(), required=False, empty_label="All platforms"
    )
    external_id = forms.CharField(required=False, max_length=255, label="Post id")
    verdict = forms.ChoiceField(choices=[("", "Any verdict"), *Verdict.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Scan.Status.choices], required=False)
    score_min = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score from")
    score_max = forms.FloatField(required=False, min_value=0.0, max_value=1.0, label="Score to")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    media_hash = forms.RegexField(
        regex=r"^\s*[0-9a-fA-F]{8,64}\s*$",
        required=False,
        label="Media hash",
        help_text=HASH_HELP,
        error_messages={"invalid": "A media hash is 8 to 64 hexadecimal characters."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platform_list()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lo, hi = data.get("score_min"), data.get("score_max")
        if lo is not None and hi is not None and lo > hi:
            self.add_error("score_max", "The upper score is below the lower one.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class WatermarkUploadForm(forms.Form):
    media = forms.FileField(
        label="Image or video",
        help_text="JPEG, PNG, WebP, GIF, BMP or TIFF images; MP4, MOV, WebM or AVI videos.",
        error_messages={
            "required": "Choose an image or video file to check.",
            "empty": "The file is empty.",
        },
    )


class QueueFilterForm(forms.Form):
    """The queue's filters; values go to ``reports.selectors.review_queue`` as strings."""

    STATUS = [
        ("active", "Open + escalated"),
        ("open", "Open"),
        ("escalated", "Escalated"),
        ("resolved", "Resolved"),
    ]
    ASSIGNEE = [("", "Anyone"), ("me", "Mine"), ("none", "Unclaimed")]
    ORDER = [("-score", "Most urgent"), ("created_at", "Oldest first"), ("-created_at", "Newest first")]

    status = forms.ChoiceField(choices=STATUS, required=False)
    kind = forms.ChoiceField(
        choices=[("", "Reports + appeals"), ("report", "Reports"), ("appeal", "Appeals")], required=False
    )
    platform = forms.ModelChoiceField(
        queryset=Platform.objects.none(), required=False, empty_label="All platforms"
    )
    category = forms.ChoiceField(choices=[], required=False)
    assignee = forms.ChoiceField(choices=ASSIGNEE, required=False)
    order = forms.ChoiceField(choices=ORDER, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platform_list()
        self.fields["category"].choices = [("", "Any category"), *Category.choices]


class DecisionForm(forms.Form):
    """One decision on one item, with the version the moderator saw (the optimistic lock)."""

    decision = forms.CharField(max_length=32)
    version = forms.IntegerField(min_value=1)
    note = forms.CharField(required=False, max_length=5000, strip=True)
    takedown = forms.BooleanField(required=False)
    allow_bank = forms.BooleanField(required=False)
    # The SHA-256 of each media the moderator was shown and ticked: the only media the decision banks.
    bank_media = forms.MultipleChoiceField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_media"].valid_value = lambda value: True  # type: ignore[method-assign]

    def clean_bank_media(self) -> list[str]:
        values = [str(v).strip().lower() for v in self.cleaned_data["bank_media"]]
        if any(not SHA256_RE.match(v) for v in values):
            raise forms.ValidationError("The media selection was not understood; reload the page.")
        return list(dict.fromkeys(values))


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1)


class BulkDecisionForm(forms.Form):
    """Selected rows as ``<item id>:<version>``: every item is version-checked like a single decision."""

    items = forms.MultipleChoiceField(
        choices=[], error_messages={"required": "Select at least one item first."}
    )
    decision = forms.ChoiceField(choices=[(spec.value, spec.bulk_label) for spec in bulk_decisions()])
    note = forms.CharField(required=False, max_length=5000, strip=True)
    allow_bank = forms.BooleanField(required=False)
    takedown = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any value is accepted here; clean_items parses and rejects malformed ones.
        self.fields["items"].valid_value = lambda value: True  # type: ignore[method-assign]

    def clean_items(self) -> dict[str, int]:
        versions: dict[str, int] = {}
        for raw in self.cleaned_data["items"]:
            item_id, _, version = str(raw).partition(":")
            try:
                versions[str(uuid.UUID(item_id))] = int(version)
            except ValueError:
                raise forms.ValidationError("The selection was not understood; reload the queue.") from None
        return versions


class AuditFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Words")
    actor = forms.CharField(required=False, max_length=150, label="Actor", help_text="User name, or system")
    action = forms.CharField(
        required=False, max_length=64, label="Action", help_text="e.g. review.decide or review."
    )
    platform = forms.ModelChoiceField(
        queryset=Platform.objects.none(), required=False, empty_label="All platforms"
    )
    target_id = forms.CharField(required=False, max_length=64, label="Target id")
    group_id = forms.UUIDField(
        required=False, label="Bulk group", error_messages={"invalid": "A bulk group id is a UUID."}
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = platform_list()


class GenerationFilterForm(forms.Form):
    platform = forms.ModelChoiceField(
        queryset=Platform.objects.none(), required=False, empty_label="All platforms"
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
