"""One medium's outcome and a scan's result: signals (classifier, watermark, Content Credentials,
banks) through the verdict rule (``moderation.scans.verdicts``) onto the scan's rows. Shared by the
in-request path (``submission``) and the worker (``worker``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detection.engine import AnalysisResult, Detector
from moderation.core.jobs import COMPLETED_FIELDS, job_mark_completed
from moderation.core.models import Platform
from moderation.provenance.pdq import BankMatches
from moderation.provenance.pdq import bank_match as bank_match_find
from moderation.scans.models import Scan, ScanMedia, Verdict
from moderation.scans.verdicts import Thresholds, hashtags_with_tag, media_assess, scan_decide


@dataclass
class MediaOutcome:
    verdict: str
    probability: float | None
    decided_by: str
    reasons: list[str]
    result: dict[str, Any]
    matches: BankMatches = field(default_factory=BankMatches)
    watermark: dict[str, Any] | None = None
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, Any] | None = None


def effective_thresholds(platform: Platform, detector: Detector) -> Thresholds:
    """The platform's thresholds where it set them, else the model card's."""
    tag = platform.threshold if platform.threshold is not None else detector.threshold
    review = platform.review_threshold if platform.review_threshold is not None else detector.review_threshold
    return Thresholds(tag, review)


def media_outcome(
    *,
    platform: Platform,
    thresholds: Thresholds,
    result: AnalysisResult,
    sha256: str,
    pdq: str,
    pdq_quality: int | None,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any] | None,
) -> MediaOutcome:
    matches = bank_match_find(platform=platform, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality)
    judged = media_assess(
        result=result, thresholds=thresholds, matches=matches, watermark=watermark, credentials=credentials
    )
    # The engine's own verdict (at the model card's threshold) and model block would contradict or
    # repeat the scan's; keep its evidence: faces or frames, aggregates, sizes, timings.
    evidence = {k: v for k, v in result.to_dict().items() if k not in ("verdict", "model")}
    return MediaOutcome(
        judged.verdict,
        result.probability,
        judged.decided_by,
        judged.reasons,
        evidence,
        matches,
        watermark,
        judged.signals,
        credentials,
    )


def outcomes_apply(
    scan: Scan, rows: Sequence[ScanMedia], outcomes: Sequence[MediaOutcome], detector: Detector
) -> None:
    """Fill the scan and its media rows from the per-media outcomes (the caller saves them)."""
    platform = scan.platform
    known: list[dict[str, Any]] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        row.verdict, row.probability = outcome.verdict, outcome.probability
        row.decided_by, row.reasons = outcome.decided_by, outcome.reasons
        row.result, row.watermark, row.signals = outcome.result, outcome.watermark, outcome.signals
        row.credentials = outcome.credentials
        row.known_matches = outcome.matches.to_list()
        known += [{**m, "media_index": row.index} for m in row.known_matches]

    scan.verdict, scan.decided_by = scan_decide([(o.verdict, o.decided_by) for o in outcomes])
    probabilities = [o.probability for o in outcomes if o.probability is not None]
    scan.probability = max(probabilities) if probabilities else None
    scan.reasons = list(dict.fromkeys(r for o in outcomes for r in o.reasons))
    scan.known_matches = known
    # The scan shows the first mark found, else the first media's (negative) recovery.
    checked = [o.watermark for o in outcomes if o.watermark]
    found = [w for w in checked if w.get("found")]
    scan.watermark = (found or checked or [None])[0]

    info = detector.model_info
    scan.model_name, scan.model_version, scan.model_threshold = info.name, info.version, info.threshold
    thresholds = effective_thresholds(platform, detector)
    scan.threshold, scan.review_threshold = thresholds.tag, thresholds.review
    scan.observe_only = platform.observe_only
    scan.tagged = scan.verdict == Verdict.FAKE and not platform.observe_only
    scan.hashtags_out = (
        hashtags_with_tag(scan.hashtags_in, platform.fake_hashtag) if scan.tagged else list(scan.hashtags_in)
    )
    job_mark_completed(scan)


SCAN_RESULT_FIELDS = [
    "verdict", "probability", "decided_by", "reasons", "known_matches", "watermark", "model_name",
    "model_version", "model_threshold", "threshold", "review_threshold", "observe_only", "tagged",
    "hashtags_out", "frames_done", "frames_total", "timings_ms", *COMPLETED_FIELDS,
]  # fmt: skip
MEDIA_RESULT_FIELDS = [
    "verdict",
    "probability",
    "decided_by",
    "reasons",
    "result",
    "watermark",
    "known_matches",
    "signals",
    "credentials",
]


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)
