"""The review queue's priority score (0-100): what to look at first.

A reported post::

    score = 100 * (0.5 * model + 0.3 * reporters + 0.2 * category)

- ``model``: the latest scan's calibrated P(fake); 0.5 when unknown (no scan yet, or no face).
- ``reporters``: ``1 - prod(1 - 0.5 * trust_i)`` over the distinct reporters, so every further
  reporter raises it and it saturates below 1. ``trust`` is the reporter's share of agreed reports
  once ``ACCURACY_MIN_DECIDED`` of their reports were decided, else a neutral 0.5 (one unknown
  reporter: 0.25; three: 0.58). A reporter whose reports are always rejected adds nothing.
- ``category``: how harmful the reported kind of abuse is (non-consensual first).

An appeal waits under a ``#Deepfake`` tag, so it starts at 50 and rises as the model's
confidence falls: ``score = 100 * (0.5 + 0.5 * (1 - model))``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings

from reports.models import Category, ReporterStats, ReviewItem

WEIGHT_MODEL, WEIGHT_REPORTERS, WEIGHT_CATEGORY = 0.5, 0.3, 0.2
NEUTRAL_TRUST = 0.5
UNKNOWN_PROBABILITY = 0.5
CATEGORY_WEIGHTS: dict[str, float] = {
    Category.NON_CONSENSUAL: 1.0,
    Category.IMPERSONATION: 0.8,
    Category.UNLABELLED_DEEPFAKE: 0.6,
    Category.OTHER: 0.3,
    Category.MODEL_UNCERTAIN: 0.4,
}


def reporter_trust(agreed: int, rejected: int) -> float:
    """Share of a reporter's decided reports that moderators agreed with; neutral until enough are decided."""
    decided = agreed + rejected
    if decided < settings.FAKEME_REPORTS["ACCURACY_MIN_DECIDED"]:
        return NEUTRAL_TRUST
    return agreed / decided


@dataclass(frozen=True)
class ScoreBreakdown:
    """The score and its parts (each 0-1), for the console's "why is this here" line."""

    score: float
    model: float
    reporters: float
    category: float
    trusts: Mapping[str, float]  # reporter_id -> trust used

    def as_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "model": self.model,
            "reporters": self.reporters,
            "category": self.category,
            "trusts": dict(self.trusts),
        }


def score_report(*, probability: float | None, category: str, trusts: Iterable[float]) -> ScoreBreakdown:
    model = UNKNOWN_PROBABILITY if probability is None else min(max(probability, 0.0), 1.0)
    reporters = 1.0 - math.prod(1.0 - 0.5 * t for t in trusts)
    weight = CATEGORY_WEIGHTS.get(category, CATEGORY_WEIGHTS[Category.OTHER])
    score = 100.0 * (WEIGHT_MODEL * model + WEIGHT_REPORTERS * reporters + WEIGHT_CATEGORY * weight)
    return ScoreBreakdown(round(score, 2), model, reporters, weight, {})


def score_appeal(*, probability: float | None) -> ScoreBreakdown:
    model = UNKNOWN_PROBABILITY if probability is None else min(max(probability, 0.0), 1.0)
    return ScoreBreakdown(round(100.0 * (0.5 + 0.5 * (1.0 - model)), 2), model, 0.0, 0.0, {})


def review_score_breakdown(item: ReviewItem) -> ScoreBreakdown:
    """The item's score from the database as it is now (two queries for a report item)."""
    if item.kind == ReviewItem.Kind.APPEAL:
        return score_appeal(probability=item.probability)
    reporters = sorted(set(item.reports.values_list("reporter_id", flat=True)))
    stats = {
        s.reporter_id: reporter_trust(s.agreed, s.rejected)
        for s in ReporterStats.objects.filter(platform_id=item.platform_id, reporter_id__in=reporters)
    }
    trusts = {r: stats.get(r, NEUTRAL_TRUST) for r in reporters}
    breakdown = score_report(probability=item.probability, category=item.category, trusts=trusts.values())
    return ScoreBreakdown(breakdown.score, breakdown.model, breakdown.reporters, breakdown.category, trusts)


def review_item_rescore(item: ReviewItem, *, save: bool = True) -> float:
    """Recompute and (by default) store the item's score; the version is not touched (no state change)."""
    item.score = review_score_breakdown(item).score
    if save:
        ReviewItem.objects.filter(pk=item.pk).update(score=item.score)
    return item.score


def review_scores_refresh(*, platform_id: object, reporter_ids: Iterable[str]) -> int:
    """Rescore the active items these reporters reported (their trust changed); returns how many."""
    items = ReviewItem.objects.filter(
        platform_id=platform_id,
        kind=ReviewItem.Kind.REPORT,
        status__in=[ReviewItem.Status.OPEN, ReviewItem.Status.ESCALATED],
        reports__reporter_id__in=list(reporter_ids),
    ).distinct()
    count = 0
    for item in items:
        review_item_rescore(item)
        count += 1
    return count
