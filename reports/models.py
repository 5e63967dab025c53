"""User reports, the review items they feed and reporters' track records (the audit log is the core's).

One ``ReviewItem`` of kind ``report`` gathers every report on one post while it is not resolved
(a partial unique constraint); a report after the decision starts a new item. An appeal is a
``ReviewItem`` of kind ``appeal`` (one per post, ever). ``version`` is the optimistic lock:
every state change (claim, release, decision) increments it, and a change sent with an older
version is refused with the story of what happened instead.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from moderation.core.models import Platform
from moderation.scans.models import Scan
from reports.decisions import Decision

COMMENT_MAX_LENGTH = 1000
STATEMENT_MAX_LENGTH = 2000


class Category(models.TextChoices):
    UNLABELLED_DEEPFAKE = "unlabelled_deepfake", "Unlabelled deepfake"
    NON_CONSENSUAL = "non_consensual", "Non-consensual"
    IMPERSONATION = "impersonation", "Impersonation"
    OTHER = "other", "Other"
    # Opened by the scan itself (its score fell in the uncertain band), never reported by a user.
    MODEL_UNCERTAIN = "model_uncertain", "Model uncertain"


# What a user may report a post as (the report API's and console's choices).
REPORTABLE_CATEGORIES = [c for c in Category if c != Category.MODEL_UNCERTAIN]

# The item's category is the most severe one reported (first here = most severe); any user
# report on an item the model opened replaces its category.
CATEGORY_SEVERITY = [
    Category.NON_CONSENSUAL,
    Category.IMPERSONATION,
    Category.UNLABELLED_DEEPFAKE,
    Category.OTHER,
    Category.MODEL_UNCERTAIN,
]


class ReviewItem(models.Model):
    """One reviewable thing: a reported post (all its reports) or an appeal against a ``#Deepfake`` tag."""

    class Kind(models.TextChoices):
        REPORT = "report"
        APPEAL = "appeal"

    class Status(models.TextChoices):
        OPEN = "open"
        ESCALATED = "escalated"
        RESOLVED = "resolved"

    Decision = Decision  # defined with what each decision does, in reports/decisions.py

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="review_items")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPORT)
    external_post_id = models.CharField(max_length=255, help_text="The platform's post id.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    category = models.CharField(max_length=32, choices=Category.choices, blank=True)
    score = models.FloatField(default=0.0, help_text="Priority, 0-100 (reports.services.priority).")
    probability = models.FloatField(null=True, blank=True, help_text="P(fake) of the latest scan.")
    distinct_reporters = models.PositiveIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Latest scan."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    takedown_requested = models.BooleanField(default=False)
    allow_listed = models.BooleanField(default=False, help_text="The media went into the allow bank.")
    hashtags = models.JSONField(
        null=True, blank=True, help_text="The hashtags the decision told the platform to publish."
    )
    version = models.PositiveIntegerField(default=1)
    # Appeals: what is appealed (a moderator's confirmation, else the scan that auto-tagged) and by whom.
    appeal_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    appellant_id = models.CharField(max_length=255, blank=True)
    appeal_statement = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_post_id"],
                condition=Q(kind="report") & ~Q(status="resolved"),
                name="review_item_one_open_report_item_per_post",
            ),
            models.UniqueConstraint(
                fields=["platform", "external_post_id"],
                condition=Q(kind="appeal"),
                name="review_item_one_appeal_per_post",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score"], name="review_item_status_score"),
            models.Index(fields=["status", "created_at"], name="review_item_status_created"),
            models.Index(fields=["platform", "external_post_id"], name="review_item_platform_post"),
            models.Index(fields=["assignee", "status"], name="review_item_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_post_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        """Still waiting for a decision (open or escalated)."""
        return self.status != self.Status.RESOLVED

    @property
    def label(self) -> str:
        """How audit entries name the item (kept in them after the item is gone)."""
        what = "appeal on" if self.kind == self.Kind.APPEAL else "reports on"
        return f"{what} post {self.external_post_id} ({self.platform.name})"


class Report(models.Model):
    """One user's report of one post, sent by the platform's report button."""

    class Outcome(models.TextChoices):
        PENDING = "pending"
        AGREED = "agreed"
        REJECTED = "rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="reports")
    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reports")
    external_post_id = models.CharField(max_length=255)
    reporter_id = models.CharField(max_length=255, help_text="The reporting user's id on the platform.")
    category = models.CharField(max_length=32, choices=Category.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The re-scan."
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One report per reporter per item: a repeat returns the first (reports.services.reports).
            models.UniqueConstraint(
                fields=["review_item", "reporter_id"], name="report_one_per_reporter_per_item"
            )
        ]
        indexes = [
            # The per-reporter rate limit counts a reporter's recent reports.
            models.Index(fields=["platform", "reporter_id", "created_at"], name="report_reporter_recent"),
        ]

    def __str__(self) -> str:
        return f"report {self.id} on {self.external_post_id} by {self.reporter_id}"


class ScanFeedback(models.Model):
    """A platform's word on a verdict: it was a false alarm, a miss, or right (training data later)."""

    class Kind(models.TextChoices):
        FALSE_POSITIVE = "false_positive", "False positive"
        FALSE_NEGATIVE = "false_negative", "False negative"
        CORRECT = "correct", "Correct"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="scan_feedback")
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    verdict = models.CharField(max_length=16, help_text="The scan's verdict the feedback is about.")
    model_version = models.CharField(max_length=100, blank=True, help_text="The model behind that verdict.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "scan feedback"

    def __str__(self) -> str:
        return f"{self.kind} on scan {self.scan_id}"


class ModeratorSettings(models.Model):
    """A moderator's own console settings (a row appears on the first change; defaults until then)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_settings"
    )
    blur_media = models.BooleanField(
        default=True,
        help_text="Media are blurred until revealed (always for non-consensual reports, whatever this says).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "moderator settings"

    def __str__(self) -> str:
        return f"console settings of {self.user}"


class ReporterStats(models.Model):
    """A reporter's track record on one platform: reports moderators agreed with or rejected."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    reporter_id = models.CharField(max_length=255)
    agreed = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "reporter_id"], name="reporter_stats_unique")
        ]
        verbose_name_plural = "reporter stats"

    def __str__(self) -> str:
        return f"{self.reporter_id}: {self.agreed} agreed, {self.rejected} rejected"

    @property
    def decided(self) -> int:
        return self.agreed + self.rejected
